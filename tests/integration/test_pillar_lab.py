"""Environments, secrets and pillar validation on booted hosts: one staging, one production."""

import hashlib
import json

import pytest

from labkit import master
from labkit.driver import changes

pytestmark = pytest.mark.topology("envs")

BAD_PILLAR = '{"app": {"gunicorn": {"workers": "many"}}}'


def drawn():
    return json.loads(master.LAB_SECRETS.read_text())


def secret_digest(fleet, host, key):
    """sha256 of a pillar value as the host sees it; Salt masks the value itself in output."""
    template = "{{ salt['pillar.get']('" + key + "', '') | sha256 }}"
    out = fleet.salt(host, "slsutil.renderer", f"string={template}", "default_renderer=jinja")
    return out[host]


def sha256(text):
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.parametrize(
    ("host", "mine", "other"),
    [("stage1", "staging", "production"), ("prod1", "production", "staging")],
)
def test_each_environment_reads_only_its_own_secrets(fleet, host, mine, other):
    values = drawn()
    for key, name in (("postgres:app:password", "postgres"), ("redis:password", "redis")):
        digest = secret_digest(fleet, host, key)
        assert digest == sha256(values[mine][name])
        assert digest != sha256(values[other][name])


def test_secrets_are_masked_in_pillar_output(fleet):
    out = json.dumps(fleet.salt("*", "pillar.items"))
    for env in drawn().values():
        for value in env.values():
            assert value not in out


def test_bad_pillar_stops_every_host_before_any_change(fleet):
    results = fleet.apply("*", f"pillar={BAD_PILLAR}")
    for host, states in results.items():
        assert len(states) == 1, f"{host} ran more than the check: {[s['__id__'] for s in states]}"
        check = states[0]
        assert check["__id__"] == "pillar-validated" and check["result"] is False
        assert (
            "pillar app:gunicorn:workers = 'many' (a string): expected an integer from 1 "
            "to 64" in check["comment"]
        )
    assert not changes(results)
    for host in fleet.hosts:
        probe = fleet.sh(host, "test -e /etc/acoustic-lab || systemctl is-enabled postgresql")
        assert probe.stdout.strip() == "disabled"


def test_bad_pillar_stops_salt_ssh_too(fleet):
    out = fleet.salt_ssh("prod1", "state.apply", 'pillar={"redis": {"databases": 0}}')
    ret = out["prod1"]
    states = list(ret.get("return", ret).values())
    assert [s["__id__"] for s in states] == ["pillar-validated"]
    assert "pillar redis:databases = 0 (an integer)" in states[0]["comment"]


def test_dry_run_on_a_fresh_host_reports_what_would_change_and_changes_nothing(fleet):
    results = fleet.apply("stage1", "test=True")["stage1"]
    assert not [s for s in results if s["result"] is False]
    pending = {s["__id__"] for s in results if s["result"] is None}
    assert {"app-systemd-unit", "postgres-app-role", "app-requirements"} <= pending
    assert fleet.sh("stage1", "test -e /etc/acoustic-lab || echo absent").stdout.strip() == "absent"


def test_converged_host_then_dry_run_reports_nothing_pending(fleet):
    real = fleet.apply("stage1")["stage1"]
    assert not [s for s in real if s["result"] is False]
    dry = fleet.apply("stage1", "test=True")["stage1"]
    assert not [s["__id__"] for s in dry if s["result"] is not True]
