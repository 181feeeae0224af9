"""The wsp_health beacon with Salt's loader dunders mocked: one alert per crossing, recovery only
past the margin, certificates as checks, and a configuration check that says what is wrong."""

import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def load():
    spec = importlib.util.spec_from_file_location(
        "_beacons_wsp_health", REPO / "_beacons" / "wsp_health.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


beacon = load()


def result(name, ok, value=None, threshold=None, unit=None):
    return {
        "name": name,
        "ok": ok,
        "value": value,
        "threshold": threshold,
        "unit": unit,
        "message": f"{name} {'ok' if ok else 'failing'}",
        "seconds": 0.01,
    }


@pytest.fixture
def rounds(monkeypatch):
    """Feed the beacon one list of check results per round; return the events of each."""
    feed = []
    certs = {"certificates": [], "crit_days": 7}
    monkeypatch.setattr(beacon, "__context__", {}, raising=False)
    monkeypatch.setattr(
        beacon,
        "__salt__",
        {
            "wsp_health.run": lambda checks=None: {"checks": feed.pop(0)},
            "wsp_cert.check": lambda: certs,
        },
        raising=False,
    )

    def run(*per_round, config=None):
        feed.extend(per_round)
        return [beacon.beacon(config or [{"margin": 5}]) for _ in per_round]

    run.certs = certs
    return run


def test_a_failing_check_alerts_once_and_recovers_once(rounds):
    down = [result("service:postgresql", False, "inactive", "active")]
    up = [result("service:postgresql", True, "active", "active")]
    events = rounds(up, down, down, down, up, up)
    assert [len(e) for e in events] == [0, 1, 0, 0, 1, 0]
    assert events[1][0]["tag"] == "alert/service:postgresql"
    assert events[1][0]["state"] == "alert"
    assert events[4][0]["tag"] == "recovered/service:postgresql"


def test_a_measured_check_recovers_only_past_the_margin(rounds):
    def memory(value):
        return [result("memory", value <= 90, value, 90, "%")]

    events = rounds(memory(95), memory(89), memory(87), memory(84))
    # 89 and 87 pass the threshold but are within 5 points of it: still the same alert.
    assert [[e["state"] for e in round_] for round_ in events] == [["alert"], [], [], ["recovered"]]


def test_disk_free_recovers_upwards_past_the_margin(rounds):
    def disk(value):
        return [result("disk:/srv", value >= 10, value, 10, "% free")]

    events = rounds(disk(4), disk(12), disk(16))
    assert [[e["state"] for e in round_] for round_ in events] == [["alert"], [], ["recovered"]]


def test_certificates_count_as_checks_when_asked(rounds):
    rounds.certs["certificates"] = [
        {
            "source": "/etc/nginx/tls/site/fullchain.pem",
            "status": "critical",
            "days_left_int": 5,
            "serial": "0A",
        }
    ]
    events = rounds([], config=[{"certs": True}])
    assert events[0][0]["tag"] == "alert/cert:/etc/nginx/tls/site/fullchain.pem"
    assert events[0][0]["value"] == 5


def test_checks_that_cannot_run_give_no_event_and_no_exception(monkeypatch):
    def broken(checks=None):
        raise RuntimeError("systemctl is missing")

    monkeypatch.setattr(beacon, "__context__", {}, raising=False)
    monkeypatch.setattr(beacon, "__salt__", {"wsp_health.run": broken}, raising=False)
    assert beacon.beacon([]) == []


@pytest.mark.parametrize(
    ("config", "words"),
    [
        ({"margin": 5}, "must be a list"),
        ([{"checks": "cpu"}], "checks must be a list"),
        ([{"margin": -1}], "margin must be a number from 0 to 50"),
        ([{"margin": True}], "margin must be a number"),
        ([{"certs": "yes"}], "certs must be true or false"),
    ],
)
def test_a_bad_configuration_says_what_is_wrong(config, words):
    ok, message = beacon.validate(config)
    assert not ok and words in message


def test_a_good_configuration_is_valid():
    assert beacon.validate([{"interval": 10}, {"margin": 5}, {"certs": True}]) == (True, "valid")
