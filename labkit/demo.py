"""``make demo``: boot a fleet, converge the stack on it, and show that it works.

Prints each phase with its time. Leaves the fleet running for a person to look at; ``./lab down``
removes it. Exits non-zero when any step does not give the right result.
"""

import argparse
import json
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

from labkit import acme, paths
from labkit.driver import Fleet, changes, failures, wait_for
from labkit.util import LabError


def step(title):
    print(f"\n== {title}", flush=True)
    return time.monotonic()


def done(started):
    print(f"   ({time.monotonic() - started:.1f} s)", flush=True)


def host_with(fleet, role):
    return next(name for name, host in fleet.hosts.items() if role in host.roles)


def run(topology):
    ok = True
    started = step(f"boot the {topology} fleet")
    fleet = Fleet(topology)
    for host in fleet.hosts.values():
        print(f"   {host.name:<8} {host.address:<13} {','.join(host.roles)}")
    done(started)

    started = step(
        "salt-run state.orchestrate orch.deploy  (data, then app in batches, web, check)"
    )
    first, steps = fleet.orchestrate()
    for step_id, result in steps.items():
        print(f"   {step_id:<18} {'ok' if result else 'FAILED'}")
        ok &= bool(result)
    for minion, results in sorted(first.items()):
        failed = [r["__id__"] for r in results if r["result"] is False]
        changed = sum(1 for r in results if r.get("changes"))
        print(f"   {minion:<8} {len(results)} states, {changed} changed, failed: {failed or 0}")
        ok &= not failed
    done(started)

    started = step("salt '*' state.apply, again: nothing may change")
    second = fleet.apply()
    print(f"   changes: {changes(second) or 0}, failures: {failures(second) or 0}")
    ok &= not changes(second) and not failures(second)
    done(started)

    web = fleet.hosts[host_with(fleet, "web")]
    site = fleet.site_name()
    url = f"https://{site}/health"
    started = step(f"GET {url}  (resolved to {web.address}, certificate checked)")
    status, body = fleet.get(url)
    print(f"   {status} {body}")
    ok &= status == 200
    done(started)

    started = step(f"GET https://{site}/ four times, keeping the session cookie")
    jar = Path(tempfile.mkdtemp()) / "cookies"
    for _ in range(4):
        out = fleet.curl(f"https://{site}/", "--cookie", str(jar), "--cookie-jar", str(jar))
        visits = re.search(r'<span id="visits">(\d+)<', out.stdout)
        views = re.search(r'<span id="views">(\d+)<', out.stdout)
        print(
            f"   visits in this session: {visits.group(1) if visits else '?'}, "
            f"page views of the site: {views.group(1) if views else '?'}"
        )
    shutil.rmtree(jar.parent)
    ok &= bool(visits) and visits.group(1) == "4"
    done(started)

    cache = host_with(fleet, "cache")
    started = step(f"stop Redis on {cache}: /health must say 503 and name redis")
    fleet.sh(cache, "systemctl stop redis-server")
    wait_for(lambda: fleet.get(url)[0] == 503, 20)
    status, body = fleet.get(url)
    print(f"   {status} {body}")
    ok &= status == 503 and json.loads(body)["checks"]["redis"]["ok"] is False
    fleet.sh(cache, "systemctl start redis-server")
    ok &= bool(wait_for(lambda: fleet.get(url)[0] == 200, 20))
    print(f"   Redis started again: {fleet.get(url)[0]}")
    done(started)

    step("systemctl is-system-running, on every host")
    states = fleet.salt("*", "cmd.run", "systemctl is-system-running")
    for minion, state in sorted(states.items()):
        print(f"   {minion:<8} {state}")
        ok &= state == "running"

    root = acme.ACME_DIR / "issuing-root.pem"
    print(f"\nThe site: https://{site}/ at {web.address} (from this machine), for example:")
    print(f"   curl --cacert {root} --resolve {site}:443:{web.address} https://{site}/")
    print(f"The CA to trust (the lab's ACME CA, new at every 'up'): {root}")
    lab = "./lab" if paths.SLOT == 0 else f"WSPLAB_SLOT={paths.SLOT} ./lab"
    print(f"Look around: {lab} status | {lab} salt '*' ... | {lab} ssh HOST; remove: {lab} down")
    print("demo: " + ("every check passed" if ok else "SOME CHECKS FAILED"))
    return ok


def main():
    parser = argparse.ArgumentParser(prog="demo", description=__doc__)
    parser.add_argument("--topology", default="cluster")
    args = parser.parse_args()
    try:
        return 0 if run(args.topology) else 1
    except LabError as err:
        print(f"demo: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
