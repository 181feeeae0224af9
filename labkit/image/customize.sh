#!/bin/sh
# Runs once inside mmdebstrap, on the machine, after the packages are in the new root ($1).
# Turns a plain Debian root into a lab host image: salt-minion in a venv, per-host facts left
# for boot time, and the stack's services installed but not enabled (the formulas enable them).
set -eu
root=$1
here=$(dirname "$0")

# The machine reaches the registries through a TLS-intercepting gateway whose CA must be trusted.
if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then
    cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
    chroot "$root" update-ca-certificates >/dev/null
fi

# salt-minion in its own venv, built with the host's own Python; the pip cache of the machine is
# lent for the build so later builds are quick.
mkdir -p "$root/var/cache/lab-pip" "$root/tmp/lab-req"
mount --bind "$LAB_PIP_CACHE" "$root/var/cache/lab-pip"
trap 'umount "$root/var/cache/lab-pip" 2>/dev/null || true' EXIT
cp "$LAB_REQ_DIR/minion.in" "$LAB_REQ_DIR/constraints.txt" "$root/tmp/lab-req/"
# A few of salt's dependencies ship only as source: a compiler is lent for the build and removed.
chroot "$root" apt-get install -y -qq gcc python3-dev >/dev/null
chroot "$root" python3 -m venv /opt/salt
chroot "$root" /opt/salt/bin/pip install --quiet --disable-pip-version-check \
    --cache-dir /var/cache/lab-pip -r /tmp/lab-req/minion.in -c /tmp/lab-req/constraints.txt
umount "$root/var/cache/lab-pip"
trap - EXIT
chroot "$root" apt-get purge -y -qq --autoremove gcc python3-dev >/dev/null
chroot "$root" apt-get clean
rm -rf "$root/tmp/lab-req" "$root/var/cache/lab-pip"
for tool in salt-minion salt-call; do
    ln -sf "/opt/salt/bin/$tool" "$root/usr/local/bin/$tool"
done
mkdir -p "$root/etc/salt/minion.d" "$root/etc/salt/pki/minion"
install -m 0644 "$here/salt-minion.service" "$root/etc/systemd/system/salt-minion.service"
install -m 0644 "$here/lab-ssh-hostkeys.service" \
    "$root/etc/systemd/system/lab-ssh-hostkeys.service"

# The admin account the lab logs in with (its key is written per host before boot).
chroot "$root" useradd --create-home --shell /bin/bash --groups sudo "$LAB_ADMIN"
printf '%s ALL=(ALL:ALL) NOPASSWD: ALL\n' "$LAB_ADMIN" > "$root/etc/sudoers.d/90-lab-admin"
chmod 0440 "$root/etc/sudoers.d/90-lab-admin"

# Each host must get its own machine id and ssh host keys at first boot, not share the image's.
: > "$root/etc/machine-id"
rm -f "$root"/etc/ssh/ssh_host_*

chroot "$root" systemctl enable salt-minion.service lab-ssh-hostkeys.service \
    systemd-networkd.service >/dev/null 2>&1
# Installed for speed, left for the formulas to enable: a host runs only what its roles need.
for unit in nginx.service postgresql.service redis-server.service; do
    chroot "$root" systemctl disable "$unit" >/dev/null 2>&1 || true
done
