"""labkit: throwaway Debian hosts booted under systemd-nspawn, with a salt-master to drive them.

The lab only starts hosts, a bridge, a proxy and a master; it never reaches into the formulas.
Tests and the demo drive it through the ``./lab`` command line or :mod:`labkit.lab`.
"""
