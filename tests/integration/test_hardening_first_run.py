"""The first hardening of a host that never had a firewall: what must not break while ufw starts.

An SSH session opened before the run must still answer after it, and a new one must open (C3);
the minion, whose connections to the master are older than the firewall, must answer at once
(C13). The ``fleet`` fixture boots the two-host "pair" topology, unconverged; only ``hardening``
is applied, which keeps the run short.
"""

import selectors
import subprocess
import time

import pytest

from labkit import image
from labkit.driver import failures, ssh_argv

pytestmark = pytest.mark.topology("pair")


def ssh_command(address, *command):
    """The OpenSSH client as the admin, never prompting."""
    return ssh_argv(address, image.ADMIN_USER, *command)


class OpenSession:
    """An SSH session that echoes back each line it is sent, open until closed."""

    def __init__(self, address):
        self.proc = subprocess.Popen(
            ssh_command(address, 'while read -r line; do echo "echo:$line"; done'),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            bufsize=1,
        )
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.proc.stdout, selectors.EVENT_READ)

    def echo(self, word, seconds=10):
        """What the far end answers to ``word`` within ``seconds``, or None."""
        if self.proc.poll() is not None:
            return None
        self.proc.stdin.write(word + "\n")
        self.proc.stdin.flush()
        if not self.selector.select(timeout=seconds):
            return None
        return self.proc.stdout.readline().strip()

    def close(self):
        self.proc.kill()
        self.proc.wait()


def test_first_hardening_keeps_the_open_session_and_the_minion(fleet):
    host = "node1"
    address = fleet.hosts[host].address
    assert "inactive" in fleet.sh(host, "ufw status").stdout

    session = OpenSession(address)
    try:
        assert session.echo("before", seconds=30) == "echo:before"
        started = time.monotonic()
        first = fleet.apply(host, "hardening")
        print(f"first hardening of {host}: {time.monotonic() - started:.0f} s")
        started = time.monotonic()
        ping = fleet.salt(host, "test.ping", "--timeout=10")
        print(f"test.ping right after it: {ping} in {time.monotonic() - started:.1f} s")
        assert session.echo("after") == "echo:after"
    finally:
        session.close()

    assert ping == {host: True}
    assert not failures(first), failures(first)
    states = {s["__id__"]: s for s in first[host]}
    enabled = states["hardening-firewall-enabled"]
    assert enabled["changes"], "ufw was already enabled: this is not a first run"
    # In the order Salt ran them, every SSH rule came before the firewall was switched on.
    ssh_rules = [s for i, s in states.items() if i.startswith("hardening-firewall-ssh")]
    assert ssh_rules
    assert all(s["__run_num__"] < enabled["__run_num__"] for s in ssh_rules)
    assert "Status: active" in fleet.sh(host, "ufw status").stdout
    new = subprocess.run(ssh_command(address, "true"), capture_output=True, timeout=60)
    assert new.returncode == 0, new.stderr
