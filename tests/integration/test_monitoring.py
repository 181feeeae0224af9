"""Operations on booted hosts: health checks and their latency, alert drills answered by the
reactor and seen at the webhook, the fleet's health table, and a changed module used at once over
a minion and over salt-ssh (C5)."""

import json
import subprocess
import time
from pathlib import Path

import pytest

from labkit import master, webhook
from labkit.driver import wait_for

pytestmark = pytest.mark.parametrize("stack", ["cluster"], indirect=True)

REPO = Path(__file__).resolve().parents[2]


def role_host(fleet, role):
    return next(name for name, host in sorted(fleet.hosts.items()) if role in host.roles)


def notified(minion, state, check, since):
    """The webhook notifications of ``state`` (alert or recovered) for one check since then."""
    return [
        event
        for event in webhook.events()
        if event["received"] >= since
        and event["minion"] == minion
        and event["event"].get("state") == state
        and event["event"].get("name") == check
    ]


def test_every_host_passes_its_health_checks(stack):
    out = stack.salt("*", "wsp_health.run", timeout=120)
    for minion, report in sorted(out.items()):
        cpu = next(c for c in report["checks"] if c["name"] == "cpu")
        print(
            f"\n{minion}: {len(report['checks'])} health checks in {report['seconds']} s "
            f"(cpu {cpu['value']}%: the whole machine's, seen from a container)"
        )
        # Limitation: a lab host reads the machine's /proc/stat, busy with every lab host at
        # once, so its CPU figure says nothing of the host; every other check must pass.
        failed = [c for c in report["checks"] if not c["ok"] and c["name"] != "cpu"]
        assert not failed, failed


def test_the_fleet_health_table_names_every_host(stack):
    cmd = master.salt_cmd("salt-run", ["wsp_fleet.health", "--out=json"])
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    print("\n" + out.stdout.split("{", 1)[0])
    table = out.stdout.split("{", 1)[0]
    for name in stack.hosts:
        assert any(line.startswith(name) for line in table.splitlines()), table


@pytest.mark.parametrize(
    ("role", "unit"),
    [("db", "postgresql"), ("app", "acoustic-lab.service")],
    ids=["postgresql-stopped", "app-stopped"],
)
def test_a_stopped_service_is_alerted_and_brought_back(stack, role, unit):
    host = role_host(stack, role)
    since = time.time()
    stack.sh(host, f"systemctl stop {unit}")
    check = f"service:{unit}"
    # The beacon looks every 10 s; the reactor starts the unit and the beacon sees it recover.
    alerted = wait_for(lambda: notified(host, "alert", check, since), 60, interval=1)
    recovered = wait_for(lambda: notified(host, "recovered", check, since), 60, interval=1)
    took = time.time() - since
    state = stack.sh(host, f"systemctl is-active {unit}").stdout.strip()
    if state != "active":
        stack.sh(host, f"systemctl start {unit}")
    assert alerted, f"no alert for {check} on {host}"
    assert recovered, f"no recovery for {check} on {host}"
    assert state == "active"
    assert len(notified(host, "alert", check, since)) == 1  # one alert, no storm
    print(f"\n{host}: {unit} stopped, alerted, started by the reactor, recovered in {took:.0f} s")


def test_a_changed_module_is_used_at_once_over_minion_and_salt_ssh(stack):
    host = role_host(stack, "cache")
    probe = REPO / "_modules" / "wsp_drill_probe.py"
    body = '"""A module the C5 drill writes and removes."""\n\n\ndef mark():\n    return "{}"\n'
    try:
        for mark in ("first", "second"):
            probe.write_text(body.format(mark))
            applied = stack.apply(host, "monitoring")
            assert all(s["result"] for s in applied[host]), applied
            assert stack.salt(host, "wsp_drill_probe.mark")[host] == mark
            over_ssh = stack.salt_ssh(host, "state.apply", "monitoring")[host]
            assert isinstance(over_ssh, dict), over_ssh
            got = stack.salt_ssh(host, "wsp_drill_probe.mark")[host]
            got = got.get("return", got) if isinstance(got, dict) else got
            assert got == mark, json.dumps(got)[:500]
    finally:
        probe.unlink(missing_ok=True)
        stack.salt(host, "saltutil.sync_modules")
