"""The top file and every formula rendered by Salt for each supported platform and role mix."""

import pytest

PLATFORMS = {
    "Debian-12": {
        "os": "Debian",
        "os_family": "Debian",
        "osmajorrelease": 12,
        "oscodename": "bookworm",
        "postgres": 15,
    },
    "Debian-13": {
        "os": "Debian",
        "os_family": "Debian",
        "osmajorrelease": 13,
        "oscodename": "trixie",
        "postgres": 17,
    },
    "Ubuntu-22.04": {
        "os": "Ubuntu",
        "os_family": "Debian",
        "osmajorrelease": 22,
        "oscodename": "jammy",
        "postgres": 14,
    },
    "Ubuntu-24.04": {
        "os": "Ubuntu",
        "os_family": "Debian",
        "osmajorrelease": 24,
        "oscodename": "noble",
        "postgres": 16,
    },
}


@pytest.mark.parametrize("osfinger", sorted(PLATFORMS))
def test_highstate_renders_for_every_platform(local_minion, osfinger):
    facts = dict(PLATFORMS[osfinger])
    version = facts.pop("postgres")
    minion = local_minion(
        id=f"all-{osfinger}",
        osfinger=osfinger,
        roles=["web", "app", "db", "cache"],
        environment="staging",
        **facts,
    )
    high = minion.call("state.show_highstate")
    assert isinstance(high, dict), high
    assert high["pillar-validated"]["__sls__"] == "validation"
    hba = {"name": f"/etc/postgresql/{version}/main/pg_hba.conf"}
    assert hba in high["postgres-hba-config"]["file"]
    for state_id in ("nginx-site-config", "app-service", "redis-config", "postgres-app-role"):
        assert state_id in high


@pytest.mark.parametrize(
    ("roles", "formulas"),
    [
        (["web"], {"validation", "nginx"}),
        (["app"], {"validation", "app"}),
        (["db"], {"validation", "postgres"}),
        (["cache"], {"validation", "redis"}),
        (["db", "cache"], {"validation", "postgres", "redis"}),
    ],
)
@pytest.mark.parametrize("environment", ["staging", "production"])
def test_top_file_gives_each_role_its_formulas(local_minion, roles, formulas, environment):
    minion = local_minion(
        id=f"{'-'.join(roles)}-{environment}", roles=roles, environment=environment
    )
    top = minion.call("state.show_top")
    assert set(top["base"]) == formulas
