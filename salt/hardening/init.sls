# The first thing every host gets: admin accounts, sshd, firewall, automatic security updates,
# kernel and system settings. Each part is an sls of its own and can be applied alone.
include:
  - validation
  - hardening.admins
  - hardening.ssh
  - hardening.firewall
  - hardening.updates
  - hardening.kernel
  - hardening.system
