"""Functional tests: the project's pillar and formulas compiled and rendered by Salt itself,
on this machine, with no master and no host (``salt-call --local`` and Salt's Python API)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from labkit import secrets

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def lab_secrets(tmp_path_factory):
    """A key pair and encrypted secrets made exactly as the lab makes them."""
    base = tmp_path_factory.mktemp("secrets")
    keydir, root = base / "gpgkeys", base / "pillar"
    fingerprint = secrets.make_keypair(keydir)
    recipient = secrets.make_backup_key(base / "backup" / "age.key")
    try:
        drawn = secrets.write_lab_secrets(root, keydir, fingerprint, recipient)
    finally:
        secrets.stop_agent(keydir)
    yield {"keydir": keydir, "root": root, "drawn": drawn}
    secrets.stop_agent(keydir)


class LocalMinion:
    """salt-call --local with this project's trees and the given grains."""

    def __init__(self, workdir, grains, keydir, extra_pillar_root):
        self.config_dir = workdir / "etc"
        self.config_dir.mkdir(parents=True)
        conf = {
            "id": grains.get("id", "minion"),
            "file_client": "local",
            "root_dir": str(workdir),
            "cachedir": str(workdir / "cache"),
            "pki_dir": str(workdir / "pki"),
            "log_file": str(workdir / "minion.log"),
            "file_roots": {"base": [str(REPO / "salt"), str(REPO / "examples")]},
            "pillar_roots": {"base": [str(REPO / "pillar"), str(extra_pillar_root)]},
            "gpg_keydir": str(keydir),
            "grains": grains,
        }
        (self.config_dir / "minion").write_text(yaml.safe_dump(conf))

    def call(self, *args):
        salt_call = Path(sys.executable).parent / "salt-call"
        cmd = [str(salt_call), "--local", "-c", str(self.config_dir), "--out=json", *args]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        try:
            return json.loads(result.stdout)["local"]
        except (ValueError, KeyError) as err:
            raise AssertionError(f"{args}: {result.stdout[-1500:]}{result.stderr[-1500:]}") from err


@pytest.fixture
def local_minion(tmp_path, lab_secrets):
    def make(**grains):
        return LocalMinion(
            tmp_path / grains.get("id", "m"), grains, lab_secrets["keydir"], lab_secrets["root"]
        )

    return make
