"""Operations on booted hosts: health checks and their latency, alert drills answered by the
reactor and seen at the webhook, the fleet's health table, and a changed module used at once over
a minion and over salt-ssh (C5)."""

import json
import subprocess
import time
from pathlib import Path

import pytest

from labkit import master, paths, webhook
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
            f"(cpu {cpu['value']}% of the machine's CPUs, by the host's own cgroup)"
        )
        assert report["ok"], [c for c in report["checks"] if not c["ok"]]


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
    # The reactor's job and its return, as they pass on the master's event bus (C9).
    bus = subprocess.Popen(
        master.salt_cmd("salt-run", ["state.event", f"tagmatch=salt/job/*/ret/{host}"]),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    since = time.time()
    stack.sh(host, f"systemctl stop {unit}")
    check = f"service:{unit}"
    # The beacon looks every 10 s; the reactor starts the unit and the beacon sees it recover.
    alerted = wait_for(lambda: notified(host, "alert", check, since), 60, interval=1)
    recovered = wait_for(lambda: notified(host, "recovered", check, since), 60, interval=1)
    took = time.time() - since
    bus.terminate()
    returns = bus.communicate(timeout=30)[0]
    state = stack.sh(host, f"systemctl is-active {unit}").stdout.strip()
    if state != "active":
        stack.sh(host, f"systemctl start {unit}")
    assert alerted, f"no alert for {check} on {host}"
    assert recovered, f"no recovery for {check} on {host}"
    assert state == "active"
    assert len(notified(host, "alert", check, since)) == 1  # one alert, no storm
    started = [line for line in returns.splitlines() if '"fun": "service.start"' in line]
    assert started, f"no return of the reactor's service.start from {host} on the event bus"
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


def test_a_full_disk_is_alerted_and_clears_when_space_is_freed(stack):
    """A small file system of its own, watched through pillar, filled past 90% and emptied."""
    host, point = role_host(stack, "cache"), "/mnt/wsp-drill"
    local = master.LAB_PILLAR / "staging" / "local.sls"
    original = local.read_text()
    assert "\nmonitoring:\n" in original
    local.write_text(
        original.replace("\nmonitoring:\n", f"\nmonitoring:\n  disk:\n    mounts: [{point}]\n", 1)
    )
    stack.sh(host, f"mkdir -p {point} && mount -t tmpfs -o size=8m wsp-drill {point}")
    try:
        stack.salt(host, "saltutil.refresh_pillar", "wait=True")
        since = time.time()
        stack.sh(host, f"dd if=/dev/zero of={point}/fill bs=512K count=15 status=none")
        check = f"disk:{point}"
        alerted = wait_for(lambda: notified(host, "alert", check, since), 60, interval=1)
        stack.sh(host, f"rm -f {point}/fill")
        recovered = wait_for(lambda: notified(host, "recovered", check, since), 60, interval=1)
    finally:
        local.write_text(original)
        stack.salt(host, "saltutil.refresh_pillar", "wait=True")
        stack.sh(host, f"umount {point}; rmdir {point}")
    assert alerted, f"no alert for {check} on {host}"
    assert recovered, f"no recovery for {check} on {host}"
    print(f"\n{host}: {point} filled to 7.5 of 8 MiB: {alerted[0]['event']['message']}")


def test_a_certificate_near_its_end_is_alerted_and_renewed(stack):
    """The site's certificate swapped for one with 5 days left, signed by a CA of the test's
    own with the site's key: the beacon alerts, the reactor starts certbot's renewal, and the
    new certificate from the lab's ACME CA is served."""
    web = role_host(stack, "web")
    live = "/etc/letsencrypt/live/acoustic-lab"
    site = stack.site_name()
    make_short = (
        "set -e; d=$(mktemp -d); cd $d; "
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key "
        "-out ca.pem -days 30 -subj '/CN=wsp drill CA' 2>/dev/null; "
        f"openssl req -new -key {live}/privkey.pem -subj '/CN={site}' -out site.csr; "
        f"printf 'subjectAltName=DNS:{site},DNS:www.{site}\\n' > ext; "
        "openssl x509 -req -in site.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 5 "
        "-extfile ext -out short.pem 2>/dev/null; "
        f"cert=$(readlink -f {live}/cert.pem); chain=$(readlink -f {live}/fullchain.pem); "
        'cp short.pem "$cert"; cat short.pem ca.pem > "$chain"; rm -rf $d; '
        "systemctl reload nginx"
    )
    since = time.time()
    made = stack.sh(web, make_short)
    assert made.returncode == 0, made.stderr
    days = stack.salt(web, "wsp_cert.info", f"{live}/cert.pem")[web]["days_left_int"]
    assert days <= 5

    alerted = wait_for(
        lambda: [
            e
            for e in webhook.events()
            if e["received"] >= since
            and e["event"].get("state") == "alert"
            and e["event"].get("name", "").startswith("cert:")
        ],
        90,
        interval=1,
    )
    assert alerted, "no certificate alert"
    renewed = wait_for(
        lambda: stack.salt(web, "wsp_cert.info", f"{live}/cert.pem")[web]["days_left_int"] > 30,
        120,
        interval=3,
    )
    assert renewed, "the certificate was not renewed"
    info = stack.salt(web, "wsp_cert.info", f"{live}/cert.pem")[web]
    served = stack.salt(web, "wsp_cert.endpoint", "127.0.0.1", "443", f"server_name={site}")[web]
    assert served["serial"] == info["serial"]
    print(
        f"\n{web}: 5-day certificate alerted ({alerted[0]['event']['name']}), renewed: "
        f"{info['days_left_int']} days left, issuer {info['issuer']}"
    )


def test_the_reactor_left_no_traceback_in_the_master_log(stack):
    """C9: the reactor files hold local./runner. calls that render and run cleanly. Runs after
    the drills above, which made the reactor act."""
    log = (paths.MASTER / "log" / "master").read_text(errors="replace")
    assert "Traceback" not in log, log[log.find("Traceback") - 500 :][:3000]
    assert webhook.events(), "the reactor posted nothing to the webhook"
    print(f"\nmaster log: no traceback; {len(webhook.events())} notifications at the webhook")
