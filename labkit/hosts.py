"""Boot, reach and stop lab hosts: one overlay over the shared image, one systemd-nspawn each.

Every host boots with systemd as PID 1 in its own network namespace, attached to the lab bridge.
Per-host facts (name, address, minion config and keys, ssh host key, proxy settings) are written
into the host's overlay before it boots, so nothing inside has to be changed after boot.
"""

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from labkit import cgroups, image, paths
from labkit.util import LabError, run

APT_CACHE = paths.HOME / "cache" / "apt-archives"


def _account_ids(root, user):
    """(uid, gid) of ``user`` in the passwd file of the root filesystem at ``root``."""
    for line in (root / "etc/passwd").read_text().splitlines():
        fields = line.split(":")
        if fields[0] == user:
            return int(fields[2]), int(fields[3])
    raise LabError(f"the image has no account {user!r}: rebuild it")


class Host:
    def __init__(self, name, address, roles, suite):
        self.name = name
        self.address = address
        self.roles = list(roles)
        self.suite = suite
        self.dir = paths.HOSTS / name
        self.machine = paths.MACHINE_PREFIX + name
        self.root = self.dir / "root"

    def as_dict(self):
        return {
            "name": self.name,
            "address": self.address,
            "roles": self.roles,
            "suite": self.suite,
        }

    # -- preparing -------------------------------------------------------------------------

    def mount(self, image_rootfs):
        for sub in ("upper", "work", "root"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        options = (
            f"lowerdir={image_rootfs},upperdir={self.dir / 'upper'},workdir={self.dir / 'work'}"
        )
        run(["mount", "-t", "overlay", f"wsplab-{self.name}", "-o", options, str(self.root)])

    def write(self, relpath, text, mode=0o644):
        target = self.root / relpath.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        os.chmod(target, mode)

    def configure(
        self, all_hosts, minion_conf, minion_key, minion_pub, host_key, ssh_pubkey, proxy
    ):
        self.write("/etc/hostname", self.name + "\n")
        lines = ["127.0.0.1 localhost", "::1 localhost ip6-localhost ip6-loopback"]
        lines += [f"{h.address} {h.name}" for h in all_hosts]
        self.write("/etc/hosts", "\n".join(lines) + "\n")
        # No resolver on purpose: names come from /etc/hosts, registries through the proxy.
        self.write("/etc/resolv.conf", "# lab host: names in /etc/hosts, no resolver\n")
        self.write(
            "/etc/systemd/network/10-lab.network",
            f"[Match]\nName=host0\n\n[Network]\nAddress={self.address}/{paths.PREFIX}\n"
            "LinkLocalAddressing=no\nIPv6AcceptRA=no\n",
        )
        self.write(
            "/etc/apt/apt.conf.d/80lab-proxy",
            f'Acquire::http::Proxy "{proxy}";\nAcquire::https::Proxy "{proxy}";\n',
        )
        self.write("/etc/pip.conf", f"[global]\nproxy = {proxy}\ncache-dir = /var/cache/lab-pip\n")
        self.write("/etc/salt/minion.d/lab.conf", minion_conf)
        self.write("/etc/salt/pki/minion/minion.pem", minion_key, 0o400)
        self.write("/etc/salt/pki/minion/minion.pub", minion_pub)
        private, public = host_key
        self.write("/etc/ssh/ssh_host_ed25519_key", private, 0o600)
        self.write("/etc/ssh/ssh_host_ed25519_key.pub", public)
        self.write("/root/.ssh/authorized_keys", ssh_pubkey, 0o600)
        os.chmod(self.root / "root/.ssh", 0o700)
        # The admin's key, owned by the admin (uid and gid from the image's own account files).
        admin_home = self.root / "home" / image.ADMIN_USER
        uid, gid = _account_ids(self.root, image.ADMIN_USER)
        self.write(f"/home/{image.ADMIN_USER}/.ssh/authorized_keys", ssh_pubkey, 0o600)
        os.chmod(admin_home / ".ssh", 0o700)
        for path in (admin_home / ".ssh", admin_home / ".ssh/authorized_keys"):
            os.chown(path, uid, gid)

    # -- running ---------------------------------------------------------------------------

    def boot(self):
        APT_CACHE.mkdir(parents=True, exist_ok=True)
        (APT_CACHE / "partial").mkdir(exist_ok=True)
        paths.PIP_CACHE.mkdir(parents=True, exist_ok=True)
        cmd = [
            "systemd-nspawn",
            "--boot",
            f"--directory={self.root}",
            f"--machine={self.machine}",
            f"--hostname={self.name}",
            f"--network-bridge={paths.BRIDGE}",
            # No machined and no systemd on the machine: do not register, keep our own cgroup.
            "--register=no",
            "--keep-unit",
            "--resolv-conf=off",
            "--timezone=off",
            "--link-journal=no",
            f"--bind={paths.PIP_CACHE}:/var/cache/lab-pip",
            f"--bind={APT_CACHE}:/var/cache/apt/archives",
        ]
        logfile = open(self.dir / "console.log", "ab")
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=logfile,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=lambda: cgroups.enter(f"host-{self.name}"),
        )
        logfile.close()
        (self.dir / "nspawn.pid").write_text(str(proc.pid))
        return proc.pid

    def nspawn_pid(self):
        try:
            pid = int((self.dir / "nspawn.pid").read_text())
        except (OSError, ValueError):
            return None
        return pid if Path(f"/proc/{pid}").exists() else None

    def leader(self):
        """PID of the host's own PID 1, seen from the machine, or None."""
        parent = self.nspawn_pid()
        if parent is None:
            return None
        own_ns = os.readlink(f"/proc/{parent}/ns/pid")
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                if ppid == parent and os.readlink(entry / "ns/pid") != own_ns:
                    return int(entry.name)
            except (OSError, ValueError, IndexError):
                continue
        return None

    def exec(self, *cmd, check=False, timeout=120, **kwargs):
        leader = self.leader()
        if leader is None:
            raise LabError(f"host {self.name} is not running")
        return run(
            ["nsenter", "-t", str(leader), "-a", *cmd], check=check, timeout=timeout, **kwargs
        )

    def wait_running(self, deadline):
        """Wait until the host's systemd has finished booting; return its state."""
        state = "unknown"
        while time.monotonic() < deadline:
            if self.nspawn_pid() is None:
                tail = (self.dir / "console.log").read_text(errors="replace")[-600:]
                raise LabError(f"host {self.name} stopped while booting:\n{tail}")
            if self.leader() is not None:
                out = self.exec("systemctl", "is-system-running", timeout=10)
                state = out.stdout.strip()
                if state in ("running", "degraded"):
                    return state
            time.sleep(0.3)
        raise LabError(f"host {self.name} did not finish booting in time (state {state})")

    def minion_ready(self):
        log_path = self.root / "var/log/salt/minion"
        try:
            return "Minion is ready to receive requests" in log_path.read_text(errors="replace")
        except OSError:
            return False

    def stop(self, grace=5.0):
        pid = self.nspawn_pid()
        if pid is not None:
            # nspawn turns SIGTERM into an orderly poweroff; a host is thrown away after it, so
            # one that takes longer than the grace period is killed.
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + grace
            while self.nspawn_pid() is not None and time.monotonic() < deadline:
                time.sleep(0.2)
        cgroups.kill_all(f"host-{self.name}")
        cgroups.remove(f"host-{self.name}")
        shutil.rmtree(f"/run/systemd/nspawn/propagate/{self.machine}", ignore_errors=True)
        # The kernel can keep a stopped host's network namespace, and with it the machine's end
        # of the host's veth, for minutes after its last process (socket timers): booting the
        # same name again then fails with "File exists". Deleting that end deletes the pair.
        # Limitation: nspawn shortens names past 15 characters with a hash; those stay.
        veth = f"vb-{self.machine}"
        if len(veth) <= 15 and Path(f"/sys/class/net/{veth}").exists():
            run(["ip", "link", "del", veth], check=False)
