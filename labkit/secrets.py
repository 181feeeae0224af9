"""The lab's own secrets: a GPG key pair for its master, and pillar encrypted to it.

Nothing secret is committed. At every ``up`` the lab makes a key pair in the master's
``gpg_keydir``, draws fresh random passwords for each environment, and writes them as GPG
encrypted pillar (Salt's ``gpg`` renderer) into a pillar root of its own, beside the
checkout's ``pillar/``. ``pillar/top.sls`` names these files; for a real fleet the operator
writes the same files, encrypted to their own master's key (see ``pillar/README.md``).
"""

import secrets
import subprocess
from pathlib import Path

from labkit.util import LabError

ENVIRONMENTS = ("staging", "production")
KEY_UID = "wsp-lab salt-master pillar"


def _gpg(homedir, *args, stdin=None):
    cmd = ["gpg", "--homedir", str(homedir), "--batch", "--quiet", "--no-tty", *args]
    result = subprocess.run(cmd, input=stdin, capture_output=True, text=True)
    if result.returncode != 0:
        raise LabError(f"gpg {args[0]} failed: {result.stderr.strip().splitlines()[-1:]}")
    return result.stdout


def make_keypair(homedir):
    """A passphrase-less key pair the master decrypts pillar with; returns its fingerprint."""
    homedir = Path(homedir)
    homedir.mkdir(parents=True, exist_ok=True, mode=0o700)
    homedir.chmod(0o700)
    _gpg(
        homedir,
        "--passphrase",
        "",
        "--quick-gen-key",
        KEY_UID,
        "future-default",
        "default",
        "never",
    )
    listing = _gpg(homedir, "--with-colons", "--list-keys", KEY_UID)
    return next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr"))


def stop_agent(homedir):
    """gpg leaves an agent running for its home folder; the lab leaves nothing running."""
    subprocess.run(
        ["gpgconf", "--homedir", str(homedir), "--kill", "gpg-agent"],
        capture_output=True,
        check=False,
    )


def encrypt(homedir, recipient, plaintext):
    """ASCII-armoured ciphertext of ``plaintext``, given to gpg on stdin, never in argv."""
    return _gpg(
        homedir,
        "--armor",
        "--trust-model",
        "always",
        "--encrypt",
        "--recipient",
        recipient,
        stdin=plaintext,
    )


def _block(ciphertext, indent):
    pad = " " * indent
    return "|\n" + "".join(pad + line + "\n" for line in ciphertext.strip().splitlines())


def make_backup_key(path):
    """An age key pair for the database backups; returns the public key (the recipient).

    The private key stays with the lab (an operator keeps it off the database host): backups
    are encrypted on the host to the public key and only the key's holder can restore them.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    result = subprocess.run(["age-keygen", "-o", str(path)], capture_output=True, text=True)
    if result.returncode != 0:
        raise LabError(f"age-keygen failed: {result.stderr.strip()}")
    for line in path.read_text().splitlines():
        if line.startswith("# public key: "):
            return line.split(": ", 1)[1].strip()
    raise LabError(f"age-keygen wrote no public key to {path}")


def write_lab_secrets(pillar_root, homedir, recipient, backup_recipient=None):
    """Write ``<env>/secrets/{postgres,redis}.sls`` for every environment; return the values.

    The values are returned so that tests can look for them where they must not be. The
    backup recipient, a public key, goes beside the database password in plain text.
    """
    drawn = {}
    for env in ENVIRONMENTS:
        folder = Path(pillar_root) / env / "secrets"
        folder.mkdir(parents=True, exist_ok=True)
        db_password = secrets.token_urlsafe(24)
        cache_password = secrets.token_urlsafe(24)
        drawn[env] = {"postgres": db_password, "redis": cache_password}
        head = (
            "#!yaml|gpg\n"
            f"# {env} secrets drawn by the lab at 'up', encrypted to the lab master's own key.\n"
        )
        (folder / "postgres.sls").write_text(
            head
            + "postgres:\n  app:\n    password: "
            + _block(encrypt(homedir, recipient, db_password), 6)
            + (
                f"  backup:\n    recipients:\n      - {backup_recipient}\n"
                if backup_recipient
                else ""
            )
        )
        (folder / "redis.sls").write_text(
            head + "redis:\n  password: " + _block(encrypt(homedir, recipient, cache_password), 4)
        )
    return drawn
