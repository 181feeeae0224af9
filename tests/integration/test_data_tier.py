"""The data tier on booted hosts: PostgreSQL behind PgBouncer, encrypted backups, Redis."""

import json
import time

import pytest

from labkit import master
from labkit.driver import changes, failures

HOST_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


pytestmark = pytest.mark.parametrize("stack", ["cluster", "single"], indirect=True)


@pytest.fixture
def tier(stack):
    """The shared converged stack, with the lab's staging secrets and role lookups."""
    assert not failures(stack.first), failures(stack.first)
    stack.secrets = json.loads(master.LAB_SECRETS.read_text())["staging"]
    stack.role = lambda role: next(n for n, h in stack.hosts.items() if role in h.roles)
    stack.addr = lambda role: (
        "127.0.0.1" if len(stack.hosts) == 1 else stack.hosts[stack.role(role)].address
    )
    return stack


def run_as(fleet, host, command, **env):
    """A shell command in a host, secrets passed in the environment, never in arguments."""
    return fleet.hosts[host].exec("/bin/sh", "-c", command, env={"PATH": HOST_PATH, **env})


def psql(fleet, host, port, sql, password=None):
    """psql from ``host`` to the database as the app role. ``password``: True for the real one
    (looked up here, so it never shows in a failure report), a string for a wrong one."""
    db = "127.0.0.1" if "db" in fleet.hosts[host].roles else fleet.addr("db")
    if password is True:
        password = fleet.secrets["postgres"]
    env = {"PGPASSWORD": password} if password is not None else {}
    return run_as(
        fleet,
        host,
        f"psql -w -X -tA -v ON_ERROR_STOP=1 'host={db} port={port} user=acoustic "
        f'dbname=acoustic connect_timeout=5\' -c "{sql}"',
        **env,
    )


@pytest.mark.parametrize("port", [5432, 6432], ids=["direct", "pgbouncer"])
def test_the_app_role_logs_in_with_its_password_only(tier, port):
    app = tier.role("app")
    good = psql(tier, app, port, "SELECT current_user", True)
    assert good.returncode == 0, good.stderr
    assert good.stdout.strip() == "acoustic"

    none = psql(tier, app, port, "SELECT 1")
    assert none.returncode != 0
    assert "password" in none.stderr  # no password supplied / authentication failed

    wrong = psql(tier, app, port, "SELECT 1", "not-the-password")
    assert wrong.returncode != 0
    assert "password authentication failed" in wrong.stderr or "SASL" in wrong.stderr


def test_the_stored_password_is_a_scram_verifier(tier):
    db = tier.role("db")
    out = run_as(
        tier,
        db,
        'runuser -u postgres -- psql -tAc "SELECT rolpassword FROM '
        "pg_authid WHERE rolname = 'acoustic'\"",
    )
    assert out.stdout.startswith("SCRAM-SHA-256$4096:")


@pytest.mark.parametrize("port", [5432, 6432], ids=["direct", "pgbouncer"])
def test_a_host_without_the_app_role_is_refused(tier, port):
    """Two layers: the db host's firewall drops the connection, and with a hole made in the
    firewall for the test, PostgreSQL's or PgBouncer's own hba still refuses the login."""
    if len(tier.hosts) == 1:
        pytest.skip("one host: there is no other host to try from")
    cache, db = tier.role("cache"), tier.role("db")
    out = psql(tier, cache, port, "SELECT 1", True)
    assert out.returncode != 0
    assert "timeout expired" in out.stderr or "timed out" in out.stderr, out.stderr

    hole = f"from {tier.hosts[cache].address} to any port {port} proto tcp"
    assert run_as(tier, db, f"ufw insert 1 allow {hole}").returncode == 0
    try:
        out = psql(tier, cache, port, "SELECT 1", True)
    finally:
        run_as(tier, db, f"ufw delete allow {hole}")
    assert out.returncode != 0
    # PostgreSQL: "no pg_hba.conf entry"; PgBouncer: "login rejected" (its own hba file).
    assert "no pg_hba.conf entry" in out.stderr or "login rejected" in out.stderr, out.stderr


def test_the_app_database_is_closed_to_other_roles(tier):
    db = tier.role("db")
    acl = run_as(
        tier,
        db,
        'runuser -u postgres -- psql -tAc "SELECT has_database_privilege('
        "'public', 'acoustic', 'CONNECT')\"",
    )
    assert acl.stdout.strip() == "f"


def test_redis_wants_its_password(tier):
    app, cache = tier.role("app"), tier.addr("cache")
    anonymous = run_as(tier, app, f"redis-cli -h {cache} ping")
    assert "NOAUTH" in anonymous.stdout + anonymous.stderr
    authed = run_as(tier, app, f"redis-cli -h {cache} ping", REDISCLI_AUTH=tier.secrets["redis"])
    assert authed.stdout.strip() == "PONG"
    renamed = run_as(
        tier, app, f"redis-cli -h {cache} flushall", REDISCLI_AUTH=tier.secrets["redis"]
    )
    assert "unknown command" in (renamed.stdout + renamed.stderr).lower()


def test_data_survives_restarts(tier):
    db, cache = tier.role("db"), tier.role("cache")
    password = True
    assert (
        psql(
            tier,
            db,
            5432,
            "CREATE TABLE IF NOT EXISTS survive (v text); INSERT INTO survive VALUES ('kept')",
            password,
        ).returncode
        == 0
    )
    run_as(tier, cache, "redis-cli set survive kept", REDISCLI_AUTH=tier.secrets["redis"])

    run_as(tier, db, "systemctl restart postgresql@*-main")
    run_as(tier, cache, "systemctl restart redis-server")

    deadline = time.monotonic() + 30
    while psql(tier, db, 5432, "SELECT 1", password).returncode != 0:
        assert time.monotonic() < deadline, "PostgreSQL did not come back"
        time.sleep(0.5)
    assert psql(tier, db, 5432, "SELECT v FROM survive", password).stdout.strip() == "kept"
    got = run_as(tier, cache, "redis-cli get survive", REDISCLI_AUTH=tier.secrets["redis"])
    assert got.stdout.strip() == "kept"


def test_backup_drill_restores_identical_rows(tier):
    db = tier.role("db")
    password = True
    checksum_sql = "SELECT md5(string_agg(n::text || ':' || note, ',' ORDER BY n)) FROM drill"
    setup = (
        "DROP TABLE IF EXISTS drill; CREATE TABLE drill (n int PRIMARY KEY, note text); "
        "INSERT INTO drill SELECT g, md5(g::text) FROM generate_series(1, 5000) g"
    )
    assert psql(tier, db, 5432, setup, password).returncode == 0
    before = psql(tier, db, 5432, checksum_sql, password).stdout.strip()

    started = time.monotonic()
    backup = run_as(
        tier,
        db,
        "systemctl start acoustic-db-backup.service && "
        "ls -1t /var/backups/postgresql/acoustic-*.dump.age | head -1",
    )
    backup_seconds = time.monotonic() - started
    dump = backup.stdout.strip()
    assert dump, backup.stderr
    size = int(run_as(tier, db, f"stat -c %s {dump}").stdout)
    # Encrypted at rest: no table row appears in the file.
    assert run_as(tier, db, f"grep -c drill {dump} || true").stdout.strip() == "0"

    dropped = run_as(
        tier, db, "runuser -u postgres -- psql -qc 'DROP DATABASE acoustic WITH (FORCE)'"
    )
    assert dropped.returncode == 0, dropped.stderr
    assert psql(tier, db, 5432, "SELECT 1", password).returncode != 0

    key = tier.hosts[db].root / "root/restore.key"
    key.write_text(master.BACKUP_KEY.read_text())
    key.chmod(0o600)
    started = time.monotonic()
    try:
        restore = run_as(tier, db, f"acoustic-db-restore {dump} /root/restore.key")
    finally:
        key.unlink()
    restore_seconds = time.monotonic() - started
    assert restore.returncode == 0, restore.stderr

    after = psql(tier, db, 5432, checksum_sql, password).stdout.strip()
    print(
        f"\nbackup drill ({len(tier.hosts)} hosts): 5000 rows, dump {size} bytes encrypted, "
        f"backup {backup_seconds:.1f} s, restore {restore_seconds:.1f} s, md5 {after}"
    )
    assert after == before and len(after) == 32
    through_pool = psql(tier, tier.role("app"), 6432, "SELECT count(*) FROM drill", password)
    assert through_pool.stdout.strip() == "5000"


def test_second_highstate_changes_and_restarts_nothing(tier):
    units = "postgresql@*-main pgbouncer redis-server acoustic-lab nginx"
    probe = f"for u in {units}; do systemctl show -p MainPID --value $u; done 2>/dev/null"
    before = {name: tier.sh(name, probe).stdout for name in tier.hosts}
    second = tier.apply()
    assert not failures(second)
    assert not changes(second)
    after = {name: tier.sh(name, probe).stdout for name in tier.hosts}
    assert before == after
