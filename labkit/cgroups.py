"""The lab's own cgroups, one per host and per daemon, under ``wsplab`` in both hierarchies.

On a machine whose PID 1 is not systemd, ``systemd-nspawn --keep-unit`` leaves every host at the
cgroup root, where their systemds delete each other's cgroups. Each process the lab starts is
moved into a cgroup of its own first. The same tree lets teardown find every process the lab
ever started, even after the lab's own process was killed.
"""

import os
import signal
import time
from pathlib import Path

from labkit import paths


def group_dirs(name):
    return [root / paths.CGROUP_NAME / name for root in paths.CGROUP_ROOTS if root.is_dir()]


def enter(name):
    """Move the calling process into the cgroup ``name`` (use as a Popen ``preexec_fn``)."""
    for directory in group_dirs(name):
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "cgroup.procs").write_text(str(os.getpid()))


def pids(name=None):
    """Every process in the lab's tree, or in one group of it."""
    found = set()
    for root in paths.CGROUP_ROOTS:
        top = root / paths.CGROUP_NAME
        if name:
            top = top / name
        if not top.is_dir():
            continue
        for procs in top.rglob("cgroup.procs"):
            try:
                found.update(int(p) for p in procs.read_text().split())
            except OSError:
                continue
    return found


def kill_all(name=None, grace=0.0):
    """SIGTERM then, after ``grace`` seconds, SIGKILL every process left in the group."""
    if grace:
        _signal(pids(name), signal.SIGTERM)
        deadline = time.monotonic() + grace
        while pids(name) and time.monotonic() < deadline:
            time.sleep(0.2)
    for _ in range(50):
        left = pids(name)
        if not left:
            return
        _signal(left, signal.SIGKILL)
        time.sleep(0.1)


def remove(name=None):
    """Remove the (empty) cgroups of one group, or of the whole lab, deepest first."""
    for root in paths.CGROUP_ROOTS:
        top = root / paths.CGROUP_NAME
        if name:
            top = top / name
        if not top.is_dir():
            continue
        dirs = sorted((d for d in top.rglob("*") if d.is_dir()), key=lambda d: -len(d.parts))
        for directory in [*dirs, top]:
            try:
                directory.rmdir()
            except OSError:
                pass


def _signal(pid_list, sig):
    for pid in pid_list:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def exists(name=None):
    top = Path(paths.CGROUP_ROOTS[0]) / paths.CGROUP_NAME
    return (top / name if name else top).is_dir()
