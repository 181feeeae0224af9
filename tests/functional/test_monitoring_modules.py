"""The certificate and health modules loaded by Salt's own loader from the checkout's
``_modules`` and ``_states`` (through pytest-salt-factories' ``Loaders``), and run on this
machine.

Only read-only checks run here (a certificate file made for the test, /proc and statvfs);
the checks of services, HTTP, PostgreSQL and Redis need a booted lab host.
"""

import datetime
import time
from pathlib import Path

import pytest
import salt.config
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from saltfactories.utils.functional import Loaders

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def loader(tmp_path_factory):
    """Execution and state modules as a minion loads them, with a pillar given in opts."""
    root = tmp_path_factory.mktemp("loader")
    opts = salt.config.minion_config(None)
    opts.update(
        {
            "id": "functional-monitoring",
            "file_client": "local",
            "root_dir": str(root),
            "cachedir": str(root / "cache"),
            "pki_dir": str(root / "pki"),
            "module_dirs": [str(REPO / "_modules")],
            "states_dirs": [str(REPO / "_states")],
            "grains": {"id": "functional-monitoring", "roles": []},
            "pillar": {
                "monitoring": {
                    "certs": {"warn_days": 45, "crit_days": 10},
                    "thresholds": {"memory_percent": 100, "disk_free_percent": 0},
                }
            },
        }
    )
    loaders = Loaders(opts)
    yield {"opts": opts, "mods": loaders.modules, "states": loaders.states}
    loaders.reset_state()


def write_cert(path, days_left):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "app.example.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=days_left))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("app.example.test")]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert


def test_the_loader_finds_every_function(loader):
    mods, states = loader["mods"], loader["states"]
    for name in ("info", "endpoint", "check"):
        assert f"wsp_cert.{name}" in mods
    for name in ("run", "cpu", "memory", "disk", "services", "http", "postgres", "redis"):
        assert f"wsp_health.{name}" in mods
    assert "wsp_cert.valid_for" in states and "wsp_health.healthy" in states


def test_cert_info_with_thresholds_from_pillar(loader, tmp_path):
    cert = write_cert(tmp_path / "cert.pem", 30)
    facts = loader["mods"]["wsp_cert.info"](str(tmp_path / "cert.pem"))
    # 30 days left is under the pillar's warning threshold of 45, over its critical 10.
    assert facts["status"] == "warning" and (facts["warn_days"], facts["crit_days"]) == (45, 10)
    assert facts["days_left_int"] == 29 and facts["dns_names"] == ["app.example.test"]
    assert int(facts["serial"], 16) == cert.serial_number


def test_cert_state_through_the_loader(loader, tmp_path):
    write_cert(tmp_path / "cert.pem", 5)
    ret = loader["states"]["wsp_cert.valid_for"](str(tmp_path / "cert.pem"), days=14)
    assert ret["result"] is False and "fewer than the 14 days required" in ret["comment"]


def test_memory_and_disk_of_this_machine(loader):
    memory = loader["mods"]["wsp_health.memory"]()
    (result,) = memory["checks"]
    assert 0 < result["value"] <= 100 and result["threshold"] == 100 and memory["ok"] is True

    disk = loader["mods"]["wsp_health.disk"]()
    by_name = {check["name"]: check for check in disk["checks"]}
    assert "disk:/" in by_name and 0 <= by_name["disk:/"]["value"] <= 100
    assert disk["ok"] is True  # the pillar's threshold of 0% free passes any disk


def test_latency_of_the_host_checks(loader):
    """cpu, memory and disk on this machine; a host without roles has no more checks."""
    started = time.monotonic()
    report = loader["mods"]["wsp_health.run"]()
    elapsed = time.monotonic() - started
    names = [check["name"] for check in report["checks"]]
    assert names[:2] == ["cpu", "memory"] and "disk:/" in names
    assert elapsed < 1.5
    print(f"\nwsp_health.run on this machine: {elapsed:.3f} s for {len(names)} checks")
