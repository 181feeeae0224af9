"""The salt-master on the machine that drives the lab's minions, and the salt-ssh roster.

The master serves ``salt/``, ``examples/`` and the custom module folders straight from the
checkout, and ``pillar/`` as its pillar root, so an edit is live at the next run. It listens on
the bridge address only.
"""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

from labkit import cgroups, image, paths, secrets
from labkit.util import LabError, run

EXTMODS = paths.MASTER / "extmods"
LAB_PILLAR = paths.RUN / "pillar"
GPG_KEYDIR = paths.MASTER / "gpgkeys"
LAB_SECRETS = paths.RUN / "lab-secrets.json"
BACKUP_KEY = paths.RUN / "backup" / "age.key"
CUSTOM_MODULE_DIRS = ("_modules", "_states", "_grains", "_beacons", "_runners", "_utils")


def venv_bin(tool):
    """The salt tool of the venv the lab itself runs from."""
    path = Path(sys.executable).parent / tool
    if not path.exists():
        raise LabError(f"{tool} is missing from {path.parent}: run 'make venv'")
    return str(path)


def write_config():
    """Write the master config, the custom-module file root and the roster's defaults."""
    for sub in ("etc", "pki/master/minions", "log", "cache", "run"):
        (paths.MASTER / sub).mkdir(parents=True, exist_ok=True)
    # Custom module folders sit at the top of the checkout; Salt syncs them from a file root
    # named _modules etc., so that root is a folder of links.
    EXTMODS.mkdir(parents=True, exist_ok=True)
    for name in CUSTOM_MODULE_DIRS:
        link = EXTMODS / name
        if link.is_symlink() or link.exists():
            link.unlink()
        if (paths.REPO / name).is_dir():
            link.symlink_to(paths.REPO / name)
    conf = {
        "root_dir": str(paths.MASTER),
        "pki_dir": str(paths.MASTER / "pki/master"),
        "cachedir": str(paths.MASTER / "cache"),
        "sock_dir": str(paths.MASTER / "run/sock"),
        "pidfile": str(paths.MASTER / "run/salt-master.pid"),
        "log_file": str(paths.MASTER / "log/master"),
        "key_logfile": str(paths.MASTER / "log/key"),
        "log_level_logfile": "info",
        "user": "root",
        "interface": paths.GATEWAY,
        "file_roots": {
            "base": [str(paths.REPO / "salt"), str(paths.REPO / "examples"), str(EXTMODS)]
        },
        # The checkout's pillar, then the lab's own encrypted secrets (labkit/secrets.py).
        "pillar_roots": {"base": [str(paths.REPO / "pillar"), str(LAB_PILLAR)]},
        "gpg_keydir": str(GPG_KEYDIR),
        "roster_file": str(paths.ROSTER),
        # salt-ssh packs for the host only the files a state names, not what a file template
        # imports when the host renders it: the shared Jinja helpers go along with every run.
        "extra_filerefs": [
            f"salt://common/{path.name}"
            for path in sorted((paths.REPO / "salt" / "common").glob("*.jinja"))
        ],
        "known_hosts_file": str(paths.RUN / "ssh/known_hosts"),
        "ssh_log_file": str(paths.MASTER / "log/ssh"),
        "gather_job_timeout": 5,
        "timeout": 10,
        "state_output_diff": True,
        # The custom runners (the fleet's health table, alert notifications), and the reactor
        # that answers the health beacon's events.
        "runner_dirs": [str(paths.REPO / "_runners")],
        "reactor": [{"salt/beacon/*/wsp_health/*": ["salt://reactor/health.sls"]}],
    }
    (paths.MASTER_CONF_DIR / "master").write_text(
        "# Written by the lab (labkit/master.py) at every 'up'.\n"
        + yaml.safe_dump(conf, default_flow_style=False, sort_keys=True)
    )


def write_secrets():
    """Key pair and encrypted pillar of the lab; the drawn values go to a root-only file that
    the tests read to check where secrets must not appear."""
    fingerprint = secrets.make_keypair(GPG_KEYDIR)
    backup_recipient = secrets.make_backup_key(BACKUP_KEY)
    try:
        drawn = secrets.write_lab_secrets(LAB_PILLAR, GPG_KEYDIR, fingerprint, backup_recipient)
    finally:
        secrets.stop_agent(GPG_KEYDIR)
    LAB_SECRETS.touch(mode=0o600)
    LAB_SECRETS.write_text(json.dumps(drawn))


def write_site_pillar(acme_directory, acme_directory_ca, acme_root, admin_key, app_repo, webhook):
    """The lab's site-local pillar (``<env>/local.sls``): its own ACME CA instead of Let's
    Encrypt, the CA that CA's directory is served with, and the root it issues from (trusted by
    the web hosts, whose health checks verify the site); the admin account the lab logs in
    with; the master's address as the admin network, whose SSH is not rate limited (salt-ssh
    opens several connections a run); the lab's git server as the app's source; and the lab's
    webhook receiver for the reactor's notifications."""
    site = {
        "app": {"git": {"repo": app_repo, "rev": "main"}},
        "monitoring": {"notify": {"webhook": webhook}},
        "certs": {
            "acme": {"directory": acme_directory, "ca_bundle": acme_directory_ca},
            "trust_roots": [acme_root],
        },
        "hardening": {
            "admins": {image.ADMIN_USER: {"keys": [admin_key.strip()], "sudo": True}},
            "firewall": {"admin_sources": [f"{paths.GATEWAY}/32"]},
        },
    }
    content = yaml.safe_dump(site, default_style=None, sort_keys=True)
    for env in secrets.ENVIRONMENTS:
        folder = LAB_PILLAR / env
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "local.sls").write_text("# Written by the lab at 'up'.\n" + content)


def accept_key(minion_id, public_pem):
    (paths.MASTER / "pki/master/minions" / minion_id).write_text(public_pem)


def start():
    logfile = open(paths.MASTER / "log/daemon.out", "ab")
    subprocess.Popen(
        [venv_bin("salt-master"), "-c", str(paths.MASTER_CONF_DIR)],
        stdin=subprocess.DEVNULL,
        stdout=logfile,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=lambda: cgroups.enter("master"),
    )
    logfile.close()
    # The master writes its own key pair at start; minions need it published to connect.
    deadline = time.monotonic() + 30
    while not (paths.MASTER / "pki/master/master.pub").exists():
        if time.monotonic() > deadline or not cgroups.pids("master"):
            raise LabError(f"salt-master did not start; see {paths.MASTER / 'log/master'}")
        time.sleep(0.2)


def write_roster(hosts):
    # The admin with sudo, not root: the hardening formula refuses root logins over SSH.
    # The grains a minion has from its config file are given here too: salt-ssh never reads
    # that file, and without them a host would get neither its roles' states nor its
    # environment's pillar (the admins among it, whose sudo rule would then be removed).
    roster = {
        h.name: {
            "host": h.address,
            "user": image.ADMIN_USER,
            "sudo": True,
            "priv": str(paths.SSH_KEY),
            "timeout": 10,
            "grains": {
                "roles": list(h.roles),
                "environment": h.environment,
            },
        }
        for h in hosts
    }
    paths.ROSTER.write_text("# Written by the lab at every 'up'.\n" + yaml.safe_dump(roster))


def salt_cmd(tool, args):
    """The command line of a salt tool pointed at the lab's master."""
    return [venv_bin(tool), "-c", str(paths.MASTER_CONF_DIR), *args]


def ensure_ssh_key():
    paths.SSH_KEY.parent.mkdir(parents=True, exist_ok=True)
    if not paths.SSH_KEY.exists():
        run(
            [
                "ssh-keygen",
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-C",
                "wsp-lab",
                "-f",
                str(paths.SSH_KEY),
            ]
        )
    return Path(str(paths.SSH_KEY) + ".pub").read_text()


def gen_minion_key(workdir):
    """An RSA key pair in the PEM forms salt reads; returns (private, public)."""
    key = workdir / "minion.pem"
    run(["openssl", "genrsa", "-out", str(key), "2048"])
    pub = run(["openssl", "rsa", "-in", str(key), "-pubout"]).stdout
    return key.read_text(), pub


def gen_host_key(workdir, name):
    key = workdir / f"ssh_host_ed25519_key_{name}"
    for path in (key, Path(str(key) + ".pub")):
        if path.exists():
            path.unlink()
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"root@{name}", "-f", str(key)])
    return key.read_text(), Path(str(key) + ".pub").read_text()


def cleanup_files():
    shutil.rmtree(paths.MASTER, ignore_errors=True)
    for path in (paths.ROSTER,):
        if path.exists():
            os.unlink(path)
