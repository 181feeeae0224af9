"""Which settings and which secrets each host gets, compiled by Salt from pillar/top.sls."""

import json

import pytest
import salt.config
import salt.pillar

from tests.functional.conftest import REPO

ROLES = ("web", "app", "db", "cache")


def compile_pillar(grains, roots, keydir, cachedir):
    opts = salt.config.minion_config(None)
    opts.update(
        id=grains["id"],
        file_client="local",
        pillar_roots={"base": [str(r) for r in roots]},
        file_roots={"base": [str(REPO / "salt")]},
        gpg_keydir=str(keydir),
        cachedir=str(cachedir),
        grains=grains,
    )
    return salt.pillar.Pillar(opts, grains, grains["id"], "base").compile_pillar()


@pytest.fixture
def pillar_for(lab_secrets, tmp_path):
    def make(environment, *roles):
        grains = {
            "id": f"{environment}-{'-'.join(roles)}",
            "roles": list(roles),
            "environment": environment,
        }
        return compile_pillar(
            grains, [REPO / "pillar", lab_secrets["root"]], lab_secrets["keydir"], tmp_path
        )

    return make


@pytest.mark.parametrize("environment", ["staging", "production"])
@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_only_the_secrets_it_uses(pillar_for, lab_secrets, environment, role):
    pillar = pillar_for(environment, role)
    assert "_errors" not in pillar, pillar.get("_errors")
    drawn = lab_secrets["drawn"][environment]
    db_password = pillar.get("postgres", {}).get("app", {}).get("password")
    cache_password = pillar.get("redis", {}).get("password")
    assert db_password == (drawn["postgres"] if role in ("db", "app") else None)
    assert cache_password == (drawn["redis"] if role in ("cache", "app") else None)


@pytest.mark.parametrize(("mine", "other"), [("staging", "production"), ("production", "staging")])
def test_no_secret_of_another_environment_reaches_a_host(pillar_for, lab_secrets, mine, other):
    text = json.dumps(pillar_for(mine, *ROLES))
    for value in lab_secrets["drawn"][other].values():
        assert value not in text
    for value in lab_secrets["drawn"][mine].values():
        assert value in text


def test_settings_follow_the_environment(pillar_for):
    staging, production = pillar_for("staging", "app"), pillar_for("production", "app")
    assert staging["app"]["gunicorn"]["workers"] == 2
    assert production["app"]["gunicorn"]["workers"] == 4
    # Mappings merge key by key: the port comes from defaults/ in both.
    assert staging["app"]["gunicorn"]["port"] == production["app"]["gunicorn"]["port"] == 8000


def test_missing_secrets_stop_the_pillar(tmp_path):
    """Without its secrets file a host's pillar fails to render, so no highstate runs."""
    grains = {"id": "bare", "roles": ["app"], "environment": "production"}
    pillar = compile_pillar(grains, [REPO / "pillar"], tmp_path / "nokeys", tmp_path)
    assert any("production.secrets.postgres" in e for e in pillar.get("_errors", []))


def test_merge_rules_mappings_merge_and_lists_are_replaced(tmp_path):
    """The rules pillar/README.md writes down, checked on Salt's own merge."""
    root = tmp_path / "pillar"
    root.mkdir()
    (root / "top.sls").write_text("base:\n  '*':\n    - first\n    - second\n")
    (root / "first.sls").write_text("x:\n  keep: 1\n  over: 1\n  items: [a, b, c]\n")
    (root / "second.sls").write_text("x:\n  over: 2\n  items: [z]\n")
    grains = {"id": "merge"}
    pillar = compile_pillar(grains, [root], tmp_path / "k", tmp_path / "cache")
    assert pillar["x"] == {"keep": 1, "over": 2, "items": ["z"]}
