"""The pillar check: the project's real schemas against valid pillar and many wrong values.

The execution and state modules are loaded the way Salt's loader would, with their dunders
(``__pillar__``, ``__salt__``) set by hand.
"""

import copy
import importlib.util
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
FORMULAS = ("validation", "nginx", "certs", "postgres", "redis", "app")


def load(kind):
    spec = importlib.util.spec_from_file_location(
        f"{kind}_pillar_schema", REPO / kind / "pillar_schema.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


mod = load("_modules")
state = load("_states")


def schema():
    merged = {}
    for name in FORMULAS:
        merged.update(yaml.safe_load((REPO / "salt" / name / "schema.yaml").read_text()))
    return merged


def valid_pillar():
    """Every formula's defaults, with the secrets filled in: the fullest valid pillar."""
    pillar = {"network": {"internal_cidr": "198.18.0.0/24"}}
    for name in FORMULAS[1:]:
        pillar.update(yaml.safe_load((REPO / "salt" / name / "defaults.yaml").read_text()))
    pillar["postgres"]["app"]["password"] = "correct-horse-battery"
    pillar["redis"]["password"] = "staple-staple-staple"
    return pillar


def with_value(path, value):
    pillar = copy.deepcopy(valid_pillar())
    node = pillar
    keys = path.split(":")
    for key in keys[:-1]:
        node = node.setdefault(key, {})
    node[keys[-1]] = value
    return pillar


def test_defaults_with_secrets_are_valid():
    assert mod.validate(schema(), valid_pillar()) == []


def test_every_default_key_is_in_a_schema():
    """A key the formulas read but the schema lacks would be refused as unknown."""
    assert mod.validate(schema(), valid_pillar()) == []
    for name in FORMULAS[1:]:
        assert name in schema()


def test_pillar_example_of_every_formula_is_valid():
    for name in FORMULAS[1:]:
        example = yaml.safe_load((REPO / "salt" / name / "pillar.example").read_text())
        assert mod.validate(schema(), example) == [], name


def test_the_repository_pillar_files_are_valid():
    for sls in sorted((REPO / "pillar").rglob("*.sls")):
        text = sls.read_text()
        if "{%" in text or "{{" in text or sls.name == "top.sls":
            continue
        assert mod.validate(schema(), yaml.safe_load(text) or {}) == [], sls


# (key, bad value, words the one message must contain)
BAD = [
    ("app:gunicorn:workers", "many", "expected an integer from 1 to 64"),
    ("app:gunicorn:workers", 0, "expected an integer from 1 to 64"),
    ("app:gunicorn:workers", True, "(a boolean)"),
    ("app:gunicorn:port", 70000, "expected a port number from 1 to 65535"),
    ("app:gunicorn:port", "8000", "(a string)"),
    ("app:gunicorn:timeout", -1, "expected an integer from 1 to 3600"),
    ("app:gunicorn:wsgi_app", "acoustic_lab.wsgi", "module:callable"),
    ("app:user", "Root User", "a system account name"),
    ("app:home", "srv/acoustic", "an absolute path"),
    ("app:source", "https://example.test/app.git", "a salt:// folder"),
    ("app:git:repo", "ftp://example.test/app.git", "a git URL"),
    ("app:requirements", "/etc/passwd", "a path relative to code_dir"),
    ("app:systemd:memory_max", "1 gigabyte", "a systemd size"),
    ("app:gunicorn:wrokers", 4, "is not a known key: expected one of"),
    ("nginx:site:listen_port", 0, "a port number"),
    ("nginx:site:server_tokens", "maybe", "expected on or off"),
    ("nginx:site:server_names", ["bad name!"], "a DNS host name"),
    ("nginx:tls:protocols", "TLSv1 TLSv1.2", "nothing older"),
    ("nginx:tls:hsts_max_age", -1, "an integer from 31536000"),
    ("certs:acme:directory", "http://acme.test/dir", "an https:// URL"),
    ("nginx:site:client_max_body_size", "ten megs", "an nginx size"),
    ("nginx:proxy:read_timeout", "forever", "an nginx time"),
    ("nginx:upstream:keepalive", 5000, "an integer from 0 to 1024"),
    ("postgres:port", 99999, "a port number"),
    ("postgres:password_encryption", "md5", "one of: scram-sha-256"),
    ("postgres:app:database", "drop table;", "a lower-case SQL identifier"),
    ("postgres:app:password", "short", "of at least 12 characters"),
    ("postgres:version", "fifteen", "an integer from 10 to 30"),
    ("redis:maxmemory_policy", "lru", "one of: noeviction"),
    ("redis:maxmemory", "lots", "a Redis size"),
    ("redis:databases", 0, "an integer from 1 to 256"),
    ("redis:save", ["every minute"], '"SECONDS CHANGES"'),
    ("redis:protected_mode", "sometimes", "expected yes or no"),
    ("redis:renamed_commands", ["flushall"], "a Redis command in capitals"),
    ("network:internal_cidr", "198.18.0.0/33", "a network in CIDR form"),
    ("app:gunicorn", ["workers", 2], "expected a mapping"),
]


@pytest.mark.parametrize(("key", "value", "expected"), BAD, ids=[f"{k}={v!r}" for k, v, _ in BAD])
def test_a_bad_value_gives_one_message_naming_key_value_and_expectation(key, value, expected):
    problems = mod.validate(schema(), with_value(key, value))
    assert len(problems) == 1, problems
    assert f"pillar {key}" in problems[0]
    assert expected in problems[0]
    if "not a known key" in expected:
        return
    if key.endswith(":password"):
        assert "<hidden>" in problems[0] and repr(value) not in problems[0]
        return
    # A wrong element of a list is named by its own index and value.
    items_checked = isinstance(value, list) and "expected a" not in expected
    shown = repr(value[0]) if items_checked else repr(value)[:40]
    assert shown in problems[0]


def test_a_secret_never_appears_in_the_message():
    problems = mod.validate(schema(), with_value("redis:password", "hunter2"))
    assert problems == [
        "pillar redis:password = <hidden> (a string): expected a secret "
        "string of at least 12 characters"
    ]
    assert "hunter2" not in problems[0]


@pytest.mark.parametrize("word", [False, True, "off", "on", "OFF"])
def test_yaml_booleans_are_taken_for_on_and_off(word):
    """``server_tokens: off`` unquoted is a YAML boolean; it must be accepted, not refused."""
    assert mod.validate(schema(), with_value("nginx:site:server_tokens", word)) == []


def test_keys_outside_the_schema_are_left_alone():
    pillar = dict(valid_pillar(), mine_functions={"internal_ip": []}, anything=1)
    assert mod.validate(schema(), pillar) == []


def test_lookup_is_open_for_platform_overrides():
    assert mod.validate(schema(), with_value("nginx:lookup", {"package": "nginx-full"})) == []


def test_several_bad_values_are_all_reported():
    pillar = with_value("app:gunicorn:workers", "many")
    pillar["nginx"]["site"]["listen_port"] = 70000
    assert len(mod.validate(schema(), pillar)) == 2


def test_state_fails_with_the_message_and_changes_nothing():
    state.__salt__ = {
        "pillar_schema.validate": lambda s: mod.validate(s, with_value("app:gunicorn:port", 0)),
    }
    ret = state.validated("pillar-validated", schema=schema())
    assert ret["result"] is False
    assert ret["changes"] == {}
    assert "pillar app:gunicorn:port = 0" in ret["comment"]


def test_state_passes_on_valid_pillar():
    state.__salt__ = {"pillar_schema.validate": lambda s: mod.validate(s, valid_pillar())}
    ret = state.validated("pillar-validated", schema=schema())
    assert ret == {
        "name": "pillar-validated",
        "result": True,
        "changes": {},
        "comment": "The pillar fits the schema",
    }


def test_state_reports_a_broken_schema_instead_of_raising():
    def broken(_schema):
        raise ValueError("no schema")

    state.__salt__ = {"pillar_schema.validate": broken}
    ret = state.validated("pillar-validated", schema={})
    assert ret["result"] is False
    assert "Could not check the pillar" in ret["comment"]
