"""Figures of the lab and the first stack: ``make bench`` (add ``BENCH_ARGS=--cold`` to rebuild).

Prints, for a topology: the time of ``up`` (cold: image built first; warm: image cached), of the
first deployment (the ``orch.deploy`` orchestration) and of a second ``salt '*' state.apply``,
the latency of every host's full health check, the memory each host uses once converged (PSS of
every process in its cgroup), and the time of ``down``. Figures, not a pass/fail test: the
targets are in the README, and whoever reads the numbers judges them.
"""

import argparse
import shutil
import time
from pathlib import Path

from labkit import cgroups, lab, paths
from labkit.driver import Fleet, changes


def pss_mib(pids):
    total_kib = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total_kib += int(line.split()[1])
        except (OSError, ValueError):
            continue
    return total_kib / 1024


def timed(func):
    started = time.monotonic()
    value = func()
    return value, time.monotonic() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--topology", default="cluster")
    parser.add_argument("--cold", action="store_true", help="remove the cached images first")
    args = parser.parse_args()
    if args.cold:
        lab.teardown()
        shutil.rmtree(paths.IMAGES, ignore_errors=True)

    rows = []
    fleet, seconds = timed(lambda: Fleet(args.topology))
    rows.append((f"up, {'cold' if args.cold else 'warm'} ({len(fleet.hosts)} hosts)", seconds))
    _, seconds = timed(fleet.orchestrate)
    rows.append(("first deployment (orch.deploy)", seconds))
    second, seconds = timed(fleet.apply)
    rows.append((f"second state.apply ({len(changes(second))} hosts changed)", seconds))
    health = fleet.salt("*", "wsp_health.run", timeout=120)
    for name, report in sorted(health.items()):
        rows.append((f"health check on {name} ({len(report['checks'])} checks)", report["seconds"]))
    memory = {name: pss_mib(cgroups.pids(f"host-{name}")) for name in fleet.hosts}
    _, seconds = timed(fleet.down)
    rows.append(("down", seconds))

    print(f"\nlab figures, topology {args.topology}")
    for label, value in rows:
        print(f"  {label:<40} {value:7.2f} s")
    for name, mib in memory.items():
        roles = ",".join(fleet.hosts[name].roles) or "-"
        print(f"  memory {name:<10} {roles:<20} {mib:7.0f} MiB PSS")


if __name__ == "__main__":
    main()
