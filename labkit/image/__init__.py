"""Build and cache the read-only root filesystem that every lab host boots from.

The image is built once per suite with mmdebstrap and kept under ``$WSPLAB_HOME/images`` in a
folder named by a hash of everything that goes into it (suite, packages, the customize hook and
the pinned minion requirements), so a change to any of them builds a new image and an unchanged
one is reused. The Debian mirror is read from the machine's own apt sources.
"""

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

from labkit import paths
from labkit.util import LabError, log

HERE = Path(__file__).resolve().parent

SUITES = ("bookworm", "trixie")

# The stack's packages are baked in so that converging a host does not wait on downloads; the
# formulas still declare every package they need.
PACKAGES = [
    "systemd",
    "systemd-sysv",
    "dbus",
    "libpam-systemd",
    "iproute2",
    "iputils-ping",
    "procps",
    "openssh-server",
    "sudo",
    "python3",
    "python3-venv",
    "python3-pip",
    "ca-certificates",
    "curl",
    "less",
    "gnupg",
    "git",
    "nginx",
    "postgresql",
    "redis-server",
    # Host hardening and certificates: baked for speed, declared by the formulas all the same.
    "ufw",
    "unattended-upgrades",
    "apt-listchanges",
    "certbot",
    # An auditor the tests run inside hosts; a lab image is not a production image.
    "lynis",
]

# The admin account the lab reaches hosts with, over salt-ssh and ./lab ssh, as a cloud image's
# default user would be: key login only, sudo without a password. The hardening formula manages
# it from then on (pillar hardening:admins, which the lab writes).
ADMIN_USER = "wspadmin"


def machine_mirror():
    """Return the Debian mirror the machine's own apt uses (URIs of its first debian source)."""
    candidates = [Path("/etc/apt/sources.list.d/debian.sources"), Path("/etc/apt/sources.list")]
    for source in candidates:
        if not source.exists():
            continue
        text = source.read_text()
        match = re.search(r"^URIs:\s*(\S+/debian)\s*$", text, re.M) or re.search(
            r"^deb\s+(?:\[[^\]]*\]\s+)?(\S+/debian)\s", text, re.M
        )
        if match:
            return match.group(1)
    raise LabError("cannot find a Debian mirror in the machine's apt sources")


def image_key(suite):
    """Hash of everything that goes into the image of ``suite``."""
    digest = hashlib.sha256()
    digest.update(suite.encode())
    digest.update(" ".join(PACKAGES).encode())
    for path in sorted(HERE.iterdir()):
        if path.is_file() and path.suffix in (".sh", ".service", ".py"):
            digest.update(path.read_bytes())
    for name in ("minion.in", "constraints.txt"):
        digest.update((paths.REPO / "requirements" / name).read_bytes())
    return digest.hexdigest()[:12]


def image_dir(suite):
    return paths.IMAGES / f"{suite}-{image_key(suite)}"


def ensure_image(suite):
    """Return the root filesystem of ``suite``, building it first when it is not cached."""
    if suite not in SUITES:
        raise LabError(f"unknown suite {suite!r}: expected one of {', '.join(SUITES)}")
    paths.IMAGES.mkdir(parents=True, exist_ok=True)
    # Labs in both slots share the images: one builds while the other waits for it.
    with open(paths.IMAGES / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _ensure_image_locked(suite)


def _ensure_image_locked(suite):
    target = image_dir(suite)
    rootfs = target / "rootfs"
    if (target / "done").exists():
        return rootfs
    if shutil.which("mmdebstrap") is None:
        raise LabError("mmdebstrap is missing: run 'make deps' (apt-get install mmdebstrap)")

    # Build beside the final place and rename at the end, so a killed build leaves no image that
    # looks finished; a half-built one is removed by the next try.
    partial = target.with_name(target.name + ".partial")
    if partial.exists():
        _unmount_under(partial)
        shutil.rmtree(partial)
    partial.mkdir(parents=True)
    paths.PIP_CACHE.mkdir(parents=True, exist_ok=True)

    mirror = machine_mirror()
    security = mirror + "-security"
    sources = [
        f"deb {mirror} {suite} main",
        f"deb {mirror} {suite}-updates main",
        f"deb {security} {suite}-security main",
    ]
    env = dict(
        os.environ,
        LAB_PIP_CACHE=str(paths.PIP_CACHE),
        LAB_REQ_DIR=str(paths.REPO / "requirements"),
        LAB_ADMIN=ADMIN_USER,
    )
    cmd = [
        "mmdebstrap",
        "--mode=root",
        "--variant=apt",
        "--quiet",
        "--include=" + ",".join(PACKAGES),
        "--customize-hook=sh " + str(HERE / "customize.sh") + ' "$1"',
        suite,
        str(partial / "rootfs"),
        *sources,
    ]
    log(f"building the {suite} image (once; cached as {target.name})")
    started = time.monotonic()
    result = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        shutil.rmtree(partial, ignore_errors=True)
        tail = "\n".join((result.stderr or result.stdout).splitlines()[-15:])
        raise LabError(f"mmdebstrap failed for {suite}:\n{tail}")
    (partial / "done").write_text(f"built in {time.monotonic() - started:.0f} s\n")
    partial.rename(target)
    _prune_old_images(suite, keep=target)
    return target / "rootfs"


def _unmount_under(folder):
    """A build killed in its customize hook can leave the pip cache bound inside the root."""
    mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
    for mountpoint in reversed([m for m in mounts if m.startswith(str(folder) + "/")]):
        subprocess.run(["umount", "-l", mountpoint], check=False)


def _prune_old_images(suite, keep):
    """Old images of the same suite are never booted again: drop them to save disk. One that a
    host of another lab (the other slot, another checkout) still has mounted stays."""
    mounts = Path("/proc/mounts").read_text()
    for old in paths.IMAGES.glob(f"{suite}-*"):
        if old != keep and old.is_dir() and f"lowerdir={old}/" not in mounts:
            shutil.rmtree(old, ignore_errors=True)
