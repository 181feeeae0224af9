"""
Grains that describe the host for the formulas: the cloud it runs on and its size.

``cloud``
    ``gce`` on Google Compute Engine, recognised from the DMI data the machine itself shows;
    ``none`` elsewhere (bare metal, a lab container, another provider). Only what the host
    shows is read: no metadata server is asked, so the grain costs nothing and never waits.
``sizing``
    ``cpus`` and ``mem_mib`` as the host sees them, ``gunicorn_workers`` (the usual 2 x CPUs
    + 1, lowered so that every worker can have 128 MiB with a quarter of memory left for the
    rest), and ``meets_minimum``: at least 1 CPU and 2 GB of memory (1900 MiB counted, as
    firmware keeps a little), the smallest size this stack is meant for.

Roles and the environment are not guessed here: they are set on the minion (its ``grains``
configuration), where the operator decides them.
"""

import os

DMI_DIR = "/sys/class/dmi/id"
MEMINFO = "/proc/meminfo"
MIN_MEM_MIB = 1900
MIN_CPUS = 1
WORKER_MEM_MIB = 128


def _read(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip()
    except OSError:
        return ""


def cloud(dmi_dir=DMI_DIR):
    """The ``cloud`` grain: ``gce`` or ``none``."""
    product = _read(os.path.join(dmi_dir, "product_name"))
    vendor = _read(os.path.join(dmi_dir, "bios_vendor"))
    if "Google Compute Engine" in product or vendor == "Google":
        return {"cloud": "gce"}
    return {"cloud": "none"}


def _mem_mib(meminfo=MEMINFO):
    for line in _read(meminfo).splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024
    return 0


def _cpus():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def sizing(meminfo=MEMINFO, cpus=None):
    """The ``sizing`` grain: CPUs, memory, a gunicorn worker count, and the minimum check."""
    cpus = cpus or _cpus()
    mem = _mem_mib(meminfo)
    by_cpu = 2 * cpus + 1
    by_mem = max(1, (mem * 3 // 4) // WORKER_MEM_MIB)
    return {
        "sizing": {
            "cpus": cpus,
            "mem_mib": mem,
            "gunicorn_workers": min(by_cpu, by_mem),
            "meets_minimum": cpus >= MIN_CPUS and mem >= MIN_MEM_MIB,
        }
    }
