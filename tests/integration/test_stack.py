"""The first stack end to end: a highstate through the master converges every topology, changes
nothing the second time, and the site's /health tells the truth about PostgreSQL and Redis."""

import json

import pytest

from labkit.driver import Fleet, changes, failures, http_get, wait_for


# The cluster on Debian 12, and the single host on both Debian 12 and Debian 13.
@pytest.fixture(
    scope="module",
    params=[("single", "bookworm"), ("single", "trixie"), ("cluster", "bookworm")],
    ids=lambda p: "-".join(p),
)
def stack(request):
    topology, suite = request.param
    fleet = Fleet(topology, suite=suite)
    fleet.first = fleet.apply()
    yield fleet
    fleet.down()


def host_with(fleet, role):
    return next(name for name, host in fleet.hosts.items() if role in host.roles)


def health(fleet):
    web = fleet.hosts[host_with(fleet, "web")]
    status, body = http_get(f"http://{web.address}/health")
    return status, json.loads(body)


def test_highstate_converges_with_no_failure(stack):
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
