"""The stack end to end: the orchestration converges every topology, a plain highstate then changes
nothing, and the site's /health tells the truth about PostgreSQL and Redis."""

import json

import pytest

from labkit.driver import changes, failures, wait_for

# The cluster on Debian 12, and the single host on both Debian 12 and Debian 13.
pytestmark = pytest.mark.parametrize("stack", ["cluster", "single", "single-trixie"], indirect=True)


def host_with(fleet, role):
    return next(name for name, host in fleet.hosts.items() if role in host.roles)


def health(fleet):
    """Status and JSON of /health over HTTPS through nginx, as a visitor sees it."""
    status, body = fleet.get(f"https://{fleet.site_name()}/health")
    try:
        return status, json.loads(body)
    except ValueError:
        return status, {"page": body[:200]}  # nginx's own error page, not the app's answer


def test_orchestration_converges_every_host_with_no_failure(stack):
    assert all(stack.steps.values()), stack.steps
    assert set(stack.first) == set(stack.hosts)
    assert not failures(stack.first)


def test_every_host_is_running_after_the_highstate(stack):
    for name in stack.hosts:
        state = stack.sh(name, "systemctl is-system-running").stdout.strip()
        assert state == "running", stack.sh(name, "systemctl --failed --no-legend").stdout


def test_second_highstate_changes_nothing(stack):
    second = stack.apply()
    assert not failures(second)
    assert not changes(second)


def test_health_is_ok_through_the_web_tier(stack):
    status, body = health(stack)
    assert status == 200, body
    assert body["status"] == "ok"
    assert body["checks"]["postgres"]["ok"] and body["checks"]["redis"]["ok"]


@pytest.mark.parametrize(
    ("role", "unit", "check"),
    [("cache", "redis-server", "redis"), ("db", "postgresql", "postgres")],
)
def test_health_names_the_backend_that_is_down(stack, role, unit, check):
    host = host_with(stack, role)
    with stack.maintenance(host):
        stopped_on_purpose(stack, host, unit, check)


def stopped_on_purpose(stack, host, unit, check):
    stack.sh(host, f"systemctl stop {unit}")
    try:
        # Debian's postgresql unit returns before its cluster has stopped: wait for the effect.
        assert wait_for(lambda: health(stack)[0] == 503, 20)
        status, body = health(stack)
        assert status == 503
        assert body["status"] == "fail"
        assert body["checks"][check]["ok"] is False
        other = "postgres" if check == "redis" else "redis"
        assert body["checks"][other]["ok"] is True
    finally:
        stack.sh(host, f"systemctl start {unit}")
    assert wait_for(lambda: health(stack)[0] == 200, 20)
