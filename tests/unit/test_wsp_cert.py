"""The certificate module and its state, on real certificates made for each test.

Certificates are generated with ``cryptography`` (expired, 5, 15 and 60 days left, with and
without subjectAltNames); live endpoints are a TLS server on 127.0.0.1 in a thread. The modules
are loaded as Salt's loader would, with their dunders set by hand.
"""

import importlib.util
import json
import socket
from pathlib import Path

import pytest
import yaml
from salt.exceptions import CommandExecutionError, SaltInvocationError

REPO = Path(__file__).resolve().parents[2]


def load(kind):
    spec = importlib.util.spec_from_file_location(f"{kind}_wsp_cert", REPO / kind / "wsp_cert.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


mod = load("_modules")
state = load("_states")


@pytest.fixture
def cert_mod(salt_dunders):
    def give(pillar=None, grains=None):
        salt_dunders(mod, pillar=pillar, grains=grains)
        return mod

    give()
    return give


@pytest.fixture
def cert_state(salt_dunders, cert_mod):
    def give(test=False, pillar=None):
        cert_mod(pillar=pillar)
        salt_dunders(
            state,
            pillar=pillar,
            opts={"test": test},
            salt={"wsp_cert.check": mod.check, "wsp_cert.endpoint": mod.endpoint},
        )
        return state

    return give


def serial_hex(cert):
    text = f"{cert.serial_number:X}"
    return text if len(text) % 2 == 0 else "0" + text


# info ---------------------------------------------------------------------------------------


def test_info_reads_every_fact(cert_mod, certs):
    cert = certs.leaf("site", 60, names=("app.example.test", "www.app.example.test"))
    facts = cert_mod().info(str(certs.folder / "site.pem"))

    assert facts["status"] == "ok"
    assert 59.9 < facts["days_left"] <= 60
    assert facts["days_left_int"] == 59
    assert facts["subject_cn"] == "app.example.test"
    assert facts["dns_names"] == ["app.example.test", "www.app.example.test"]
    assert facts["issuer"] == "CN=WSP Test CA"
    assert facts["issuer_cn"] == "WSP Test CA"
    assert facts["serial"] == serial_hex(cert)
    assert facts["serial"] == facts["serial"].upper() and len(facts["serial"]) % 2 == 0
    assert facts["not_after"] == cert.not_valid_after_utc.isoformat()
    assert (facts["warn_days"], facts["crit_days"]) == (21, 7)
    json.dumps(facts)  # plain data, as a job return must be


@pytest.mark.parametrize(
    ("days_left", "valid_from", "status"),
    [
        (60, -30, "ok"),
        (22, -30, "ok"),
        (15, -30, "warning"),
        (5, -30, "critical"),
        (-2, -30, "expired"),
        (60, 2, "critical"),  # not valid yet
    ],
)
def test_status_against_default_thresholds(cert_mod, certs, days_left, valid_from, status):
    certs.leaf("c", days_left, valid_from_days=valid_from)
    facts = cert_mod().info(str(certs.folder / "c.pem"))
    assert facts["status"] == status
    if status == "expired":
        assert facts["days_left"] < 0 and facts["days_left_int"] == -2


def test_thresholds_from_pillar_and_from_arguments(cert_mod, certs):
    certs.leaf("c", 30)
    path = str(certs.folder / "c.pem")
    pillar = {"monitoring": {"certs": {"warn_days": 45, "crit_days": 31}}}
    assert cert_mod(pillar=pillar).info(path)["status"] == "critical"
    assert cert_mod(pillar=pillar).info(path, warn_days=40, crit_days=10)["status"] == "warning"
    assert cert_mod().info(path)["status"] == "ok"


def test_first_certificate_of_a_chain_and_der(cert_mod, certs):
    cert = certs.leaf("site", 60)
    chain = cert_mod().info(str(certs.folder / "site-chain.pem"))
    der = cert_mod().info(str(certs.folder / "site.der"))
    assert chain["serial"] == der["serial"] == serial_hex(cert)
    assert chain["subject_cn"] == "app.example.test"


def test_certificate_without_names(cert_mod, certs):
    certs.leaf("bare", 60, names=("bare.example.test",), san=False)
    facts = cert_mod().info(str(certs.folder / "bare.pem"))
    assert facts["dns_names"] == [] and facts["subject_cn"] == "bare.example.test"


@pytest.mark.parametrize(
    "path", ["relative/cert.pem", "", None, 42, ["/etc/ssl/cert.pem"]], ids=repr
)
def test_info_refuses_a_bad_path(cert_mod, path):
    with pytest.raises(SaltInvocationError, match="absolute file path"):
        cert_mod().info(path)


@pytest.mark.parametrize(
    ("warn", "crit", "words"),
    [
        (5, 10, "must not be more than warn_days"),
        (-1, 0, "warn_days must be a number"),
        ("21", 7, "warn_days must be a number"),
        (21, True, "crit_days must be a number"),
        (21, None, None),
    ],
)
def test_info_refuses_bad_thresholds(cert_mod, certs, warn, crit, words):
    certs.leaf("c", 60)
    path = str(certs.folder / "c.pem")
    if words is None:
        assert cert_mod().info(path, warn_days=warn, crit_days=crit)["crit_days"] == 7
        return
    with pytest.raises(SaltInvocationError, match=words):
        cert_mod().info(path, warn_days=warn, crit_days=crit)


def test_bad_thresholds_in_pillar_are_refused(cert_mod, certs):
    certs.leaf("c", 60)
    pillar = {"monitoring": {"certs": {"warn_days": "three weeks"}}}
    with pytest.raises(SaltInvocationError, match="warn_days"):
        cert_mod(pillar=pillar).info(str(certs.folder / "c.pem"))


def test_unreadable_files_are_runtime_errors(cert_mod, tmp_path):
    junk = tmp_path / "junk.pem"
    junk.write_text("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
    with pytest.raises(CommandExecutionError, match="cannot read certificate file"):
        cert_mod().info(str(tmp_path / "missing.pem"))
    with pytest.raises(CommandExecutionError, match="no readable certificate"):
        cert_mod().info(str(junk))


# endpoint -----------------------------------------------------------------------------------


def test_endpoint_reads_the_served_certificate(cert_mod, certs, tls_server):
    cert = certs.leaf("live", 5, names=("app.example.test", "www.app.example.test"))
    with tls_server(certs.folder / "live-chain.pem", certs.folder / "live.key") as port:
        facts = cert_mod().endpoint("127.0.0.1", port, server_name="app.example.test")

    assert facts["status"] == "critical"
    assert facts["serial"] == serial_hex(cert)
    assert facts["dns_names"] == ["app.example.test", "www.app.example.test"]
    assert facts["source"] == f"127.0.0.1:{port} (app.example.test)"
    assert facts["verified"] is None and facts["tls_version"].startswith("TLS")
    assert 4.9 < facts["days_left"] <= 5


def test_endpoint_verification(cert_mod, certs, tls_server, tmp_path):
    certs.leaf("live", 60)
    stranger = type(certs)(tmp_path, ca_name="Other CA")
    with tls_server(certs.folder / "live-chain.pem", certs.folder / "live.key") as port:
        good = cert_mod().endpoint(
            "127.0.0.1", port, server_name="app.example.test", cafile=str(certs.ca_path)
        )
        wrong_ca = cert_mod().endpoint(
            "127.0.0.1", port, server_name="app.example.test", cafile=str(stranger.ca_path)
        )
        wrong_name = cert_mod().endpoint(
            "127.0.0.1", port, server_name="other.example.test", cafile=str(certs.ca_path)
        )

    assert good["verified"] is True and good["status"] == "ok"
    # The served chain ends in the test CA, which the other CA's file does not hold.
    assert wrong_ca["verified"] is False
    assert "self-signed certificate in certificate chain" in wrong_ca["verify_error"]
    assert wrong_name["verified"] is False and "mismatch" in wrong_name["verify_error"]
    # The facts are there even when the certificate does not verify.
    assert wrong_ca["serial"] == good["serial"] and wrong_ca["days_left"] > 59


def test_an_expired_endpoint_still_reports_its_days(cert_mod, certs, tls_server):
    certs.leaf("old", -3)
    with tls_server(certs.folder / "old-chain.pem", certs.folder / "old.key") as port:
        facts = cert_mod().endpoint(
            "127.0.0.1", port, server_name="app.example.test", cafile=str(certs.ca_path)
        )
    assert facts["status"] == "expired" and facts["days_left_int"] == -3
    assert facts["verified"] is False and "expired" in facts["verify_error"]


def closed_port():
    with socket.create_server(("127.0.0.1", 0)) as sock:
        return sock.getsockname()[1]


def test_endpoint_that_does_not_answer(cert_mod):
    with pytest.raises(CommandExecutionError, match="cannot fetch the certificate"):
        cert_mod().endpoint("127.0.0.1", closed_port(), timeout=2)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ({"host": ""}, "host must be"),
        ({"host": "two words"}, "host must be"),
        ({"host": None}, "host must be"),
        ({"host": "h", "port": 0}, "port must be"),
        ({"host": "h", "port": 70000}, "port must be"),
        ({"host": "h", "port": "443"}, "port must be"),
        ({"host": "h", "timeout": 0}, "timeout must be"),
        ({"host": "h", "timeout": "5"}, "timeout must be"),
        ({"host": "h", "cafile": "ca.pem"}, "cafile must be"),
    ],
)
def test_endpoint_refuses_bad_arguments(cert_mod, args, words):
    with pytest.raises(SaltInvocationError, match=words):
        cert_mod().endpoint(**args)


# check --------------------------------------------------------------------------------------


def test_check_gives_one_result_each_and_the_worst_status(cert_mod, certs, tls_server):
    certs.leaf("fine", 60)
    certs.leaf("soon", 15)
    certs.leaf("live", 5)
    with tls_server(certs.folder / "live-chain.pem", certs.folder / "live.key") as port:
        report = cert_mod().check(
            paths=[str(certs.folder / "fine.pem"), str(certs.folder / "soon.pem")],
            endpoints=[f"127.0.0.1:{port}"],
        )
    assert [c["status"] for c in report["certificates"]] == ["ok", "warning", "critical"]
    assert report["status"] == "critical" and report["ok"] is False

    certs.leaf("gone", -1)
    missing = str(certs.folder / "missing.pem")
    report = cert_mod().check(paths=[str(certs.folder / "fine.pem"), missing], endpoints=[])
    assert report["status"] == "error"
    assert report["certificates"][1]["message"].startswith("cannot read certificate file")
    report = cert_mod().check(paths=[missing, str(certs.folder / "gone.pem")])
    assert report["status"] == "expired"
    assert cert_mod().check(paths=[str(certs.folder / "fine.pem")]) | {"certificates": []} == {
        "ok": True,
        "status": "ok",
        "warn_days": 21,
        "crit_days": 7,
        "certificates": [],
    }


def test_check_defaults_to_pillar_then_to_the_web_site(cert_mod, certs, tmp_path):
    certs.leaf("c", 60)
    pillar = {"monitoring": {"certs": {"paths": [str(certs.folder / "c.pem")]}}}
    report = cert_mod(pillar=pillar).check()
    assert [c["source"] for c in report["certificates"]] == [str(certs.folder / "c.pem")]

    # No role, nothing configured: nothing to check.
    assert cert_mod().check()["certificates"] == []

    # A web host checks the site's certificate file and its HTTPS port on 127.0.0.1.
    site = tmp_path / "tls" / "acoustic-lab"
    site.mkdir(parents=True)
    (site / "fullchain.pem").write_bytes((certs.folder / "c-chain.pem").read_bytes())
    pillar = {"nginx": {"tls_dir": str(tmp_path / "tls"), "site": {"tls_port": closed_port()}}}
    report = cert_mod(pillar=pillar, grains={"roles": ["web"]}).check()
    file_result, endpoint_result = report["certificates"]
    assert file_result["status"] == "ok"
    assert endpoint_result["status"] == "error"
    assert endpoint_result["source"].startswith("127.0.0.1:")


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("app.example.test", {"host": "app.example.test", "port": 443}),
        ("127.0.0.1:8443", {"host": "127.0.0.1", "port": 8443}),
        ("[::1]:8443", {"host": "::1", "port": 8443}),
        ("[::1]", {"host": "::1", "port": 443}),
        ({"host": "10.0.0.1:444", "server_name": "x"}, {"host": "10.0.0.1", "port": 444}),
        ({"host": "h", "port": 1}, {"host": "h", "port": 1}),
    ],
)
def test_endpoint_specs(spec, expected):
    parsed = mod._parse_endpoint(spec)
    assert {key: parsed[key] for key in ("host", "port")} == expected


@pytest.mark.parametrize(
    "spec", ["host:https", "", None, 443, {"port": 443}, {"host": "h", "sni": "x"}], ids=repr
)
def test_check_refuses_bad_endpoint_specs(cert_mod, spec):
    with pytest.raises(SaltInvocationError):
        cert_mod().check(paths=[], endpoints=[spec])


def test_check_refuses_paths_that_are_not_a_list(cert_mod):
    with pytest.raises(SaltInvocationError, match="paths must be a list"):
        cert_mod().check(paths=42)


def test_module_does_not_load_without_cryptography(monkeypatch):
    monkeypatch.setattr(mod, "HAS_CRYPTOGRAPHY", False)
    loaded, reason = mod.__virtual__()
    assert loaded is False and "cryptography" in reason


def test_site_defaults_match_the_nginx_formula():
    defaults = yaml.safe_load((REPO / "salt/nginx/defaults.yaml").read_text())["nginx"]
    assert mod._SITE_DEFAULTS == {
        "tls_dir": defaults["tls_dir"],
        "name": defaults["site"]["name"],
        "tls_port": defaults["site"]["tls_port"],
    }


# the state ----------------------------------------------------------------------------------


def test_valid_for_passes_with_enough_days(cert_state, certs):
    certs.leaf("c", 60)
    path = str(certs.folder / "c.pem")
    ret = cert_state().valid_for(path, days=30)
    assert ret["result"] is True and ret["changes"] == {}
    assert "valid for 60.0 more days" in ret["comment"] or "valid for 59.9" in ret["comment"]


def test_valid_for_fails_with_the_days_left_and_does_not_renew(cert_state, certs):
    certs.leaf("c", 5)
    ret = cert_state().valid_for(str(certs.folder / "c.pem"), days=30)
    assert ret["result"] is False and ret["changes"] == {}
    assert "has 5.0 days left" in ret["comment"] or "has 4.9 days left" in ret["comment"]
    assert "fewer than the 30 days required" in ret["comment"]
    assert "does not renew" in ret["comment"]


def test_valid_for_in_test_mode_gives_the_real_verdict(cert_state, certs):
    certs.leaf("short", 5)
    certs.leaf("long", 90)
    short = cert_state(test=True).valid_for(str(certs.folder / "short.pem"), days=30)
    long = cert_state(test=True).valid_for(str(certs.folder / "long.pem"), days=30)
    assert short["result"] is False and short["comment"].startswith("(test) ")
    assert long["result"] is True and long["changes"] == {}


def test_valid_for_expired_missing_and_not_yet_valid(cert_state, certs):
    certs.leaf("old", -1)
    certs.leaf("future", 90, valid_from_days=3)
    expired = cert_state().valid_for(str(certs.folder / "old.pem"), days=0)
    missing = cert_state().valid_for(str(certs.folder / "none.pem"))
    future = cert_state().valid_for(str(certs.folder / "future.pem"))
    assert expired["result"] is False and "has expired" in expired["comment"]
    assert missing["result"] is False and "cannot read certificate file" in missing["comment"]
    assert future["result"] is False and "not valid before" in future["comment"]


@pytest.mark.parametrize("days", [-1, "thirty", None, True])
def test_valid_for_never_raises_on_bad_arguments(cert_state, certs, days):
    certs.leaf("c", 60)
    ret = cert_state().valid_for(str(certs.folder / "c.pem"), days=days)
    assert ret["result"] is False and "days must be" in ret["comment"]
    relative = cert_state().valid_for("c.pem")
    assert relative["result"] is False and "absolute file path" in relative["comment"]


def test_valid_for_an_endpoint(cert_state, certs, tls_server):
    certs.leaf("live", 5)
    with tls_server(certs.folder / "live-chain.pem", certs.folder / "live.key") as port:
        short = cert_state().valid_for(f"127.0.0.1:{port}", days=3, endpoint=True)
        long = cert_state().valid_for(f"127.0.0.1:{port}", days=14, endpoint=True)
        verified = cert_state().valid_for(
            f"127.0.0.1:{port}",
            days=3,
            endpoint=True,
            server_name="app.example.test",
            cafile=str(certs.ca_path),
        )
        refused = cert_state().valid_for(
            f"127.0.0.1:{port}",
            days=3,
            endpoint=True,
            server_name="nope.example.test",
            cafile=str(certs.ca_path),
        )
    assert short["result"] is True
    assert long["result"] is False and "fewer than the 14 days" in long["comment"]
    assert verified["result"] is True
    assert refused["result"] is False and "does not verify" in refused["comment"]
    down = cert_state().valid_for(f"127.0.0.1:{closed_port()}", endpoint=True, timeout=2)
    assert down["result"] is False and "cannot fetch" in down["comment"]
