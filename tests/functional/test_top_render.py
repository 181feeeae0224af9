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


# Key exchanges each platform's OpenSSH offers and its hardened guide keeps.
SSH_KEX = {
    "Debian-12": {"sntrup761x25519-sha512", "curve25519-sha256"},
    "Debian-13": {"mlkem768x25519-sha256", "sntrup761x25519-sha512"},
    "Ubuntu-22.04": {"sntrup761x25519-sha512@openssh.com", "curve25519-sha256"},
    "Ubuntu-24.04": {"sntrup761x25519-sha512@openssh.com", "curve25519-sha256"},
}


@pytest.mark.parametrize("osfinger", sorted(PLATFORMS))
def test_sshd_algorithms_follow_the_platform(local_minion, osfinger):
    facts = dict(PLATFORMS[osfinger])
    facts.pop("postgres")
    minion = local_minion(id=f"ssh-{osfinger}", osfinger=osfinger, roles=[], **facts)
    high = minion.call("state.show_highstate")
    config = next(arg for arg in high["hardening-ssh-config"]["file"] if "context" in arg)
    kex = set(config["context"]["ssh"]["kex"])
    assert SSH_KEX[osfinger] <= kex
    # OpenSSH 8.9 (Ubuntu 22.04) knows the sntrup761 exchange only by its @openssh.com name;
    # OpenSSH 10 (Debian 13) keeps post-quantum exchanges only.
    if osfinger == "Ubuntu-22.04":
        assert "sntrup761x25519-sha512" not in kex
    if osfinger == "Debian-13":
        assert not {k for k in kex if k.startswith(("curve25519", "diffie-hellman"))}


@pytest.mark.parametrize(
    ("roles", "formulas"),
    [
        (["web"], {"nginx"}),
        (["app"], {"app"}),
        (["db"], {"postgres"}),
        (["cache"], {"redis"}),
        (["db", "cache"], {"postgres", "redis"}),
    ],
)
@pytest.mark.parametrize("environment", ["staging", "production"])
def test_top_file_gives_each_role_its_formulas(local_minion, roles, formulas, environment):
    minion = local_minion(
        id=f"{'-'.join(roles)}-{environment}", roles=roles, environment=environment
    )
    top = minion.call("state.show_top")
    # Every host also checks its pillar, is hardened and is monitored.
    assert set(top["base"]) == {"validation", "hardening", "monitoring"} | formulas
