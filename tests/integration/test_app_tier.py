"""The app tier on booted hosts: sessions through the whole stack, a sandboxed unit judged by
systemd itself, recovery from a killed master, and a deploy of a new commit under load with no
failed request."""

import http.client
import json
import shutil
import socket
import ssl
import tempfile
import threading
import time
from pathlib import Path

import pytest

from labkit import acme, gitserve
from labkit.driver import failures, wait_for

pytestmark = pytest.mark.parametrize("stack", ["cluster"], indirect=True)

UNIT = "acoustic-lab.service"

# The new commit's migration: a table, and one row per run of the migration.
MIGRATION_0002 = '''"""A table the test deploy adds.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("CREATE TABLE deploy_marks (mark text)")
    op.execute("INSERT INTO deploy_marks VALUES (inet_client_addr()::text)")


def downgrade():
    op.execute("DROP TABLE deploy_marks")
'''


def app_hosts(fleet):
    return sorted(name for name, host in fleet.hosts.items() if "app" in host.roles)


def web_address(fleet):
    return next(h.address for h in fleet.hosts.values() if "web" in h.roles)


class SiteConnection(http.client.HTTPSConnection):
    """HTTPS to the site's name at a given address, certificate checked against the lab's CA."""

    def __init__(self, name, address, timeout=5):
        context = ssl.create_default_context(cafile=str(acme.ACME_DIR / "issuing-root.pem"))
        super().__init__(name, 443, timeout=timeout, context=context)
        self.address = address

    def connect(self):
        sock = socket.create_connection((self.address, 443), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


class LoadLoop(threading.Thread):
    """GET ``path`` back to back for at most ``seconds`` or ``limit`` requests, counting every
    answer that is not 200 and every error as a failure."""

    def __init__(self, name, address, path="/health", seconds=240, limit=20000):
        super().__init__(daemon=True)
        self.args = (name, address, path)
        self.deadline = time.monotonic() + seconds
        self.limit = limit
        self.stopping = threading.Event()
        self.sent, self.failed = 0, []

    def run(self):
        name, address, path = self.args
        conn = SiteConnection(name, address)
        while not self.stopping.is_set() and self.sent < self.limit:
            if time.monotonic() > self.deadline:
                break
            self.sent += 1
            try:
                conn.request("GET", path)
                resp = conn.getresponse()
                resp.read()
                if resp.status != 200:
                    self.failed.append(resp.status)
            except (OSError, http.client.HTTPException) as err:
                self.failed.append(repr(err))
                conn.close()
                conn = SiteConnection(name, address)

    def stop(self):
        self.stopping.set()
        self.join(30)


def test_the_session_counter_survives_requests(stack):
    site, jar = stack.site_name(), Path(tempfile.mkdtemp()) / "cookies"
    seen = []
    try:
        for _ in range(4):
            out = stack.curl(f"https://{site}/", "--cookie", str(jar), "--cookie-jar", str(jar))
            assert out.returncode == 0, out.stderr
            seen.append(int(out.stdout.split('<span id="visits">')[1].split("<")[0]))
    finally:
        shutil.rmtree(jar.parent)
    # Requests are spread over both app hosts; the session lives in Redis, so it counts on.
    assert seen == [1, 2, 3, 4]


def test_the_unit_is_sandboxed_as_systemd_judges_it(stack):
    for host in app_hosts(stack):
        out = stack.sh(host, f"systemd-analyze security --no-pager {UNIT} | tail -1")
        score = float(out.stdout.split("level for")[1].split(":")[1].split()[0])
        print(f"\n{host}: systemd-analyze security {UNIT}: {score}")
        assert score <= 2.0, out.stdout
        verify = stack.sh(host, f"systemd-analyze verify /etc/systemd/system/{UNIT}")
        assert verify.returncode == 0 and not verify.stderr.strip(), verify.stderr


def test_nothing_in_the_journal_says_read_only_or_permission_denied(stack):
    for host in app_hosts(stack):
        out = stack.sh(host, f"journalctl -u {UNIT} --no-pager -o cat")
        bad = [
            line
            for line in out.stdout.splitlines()
            if "Read-only file system" in line or "EROFS" in line or "Permission denied" in line
        ]
        assert not bad, f"{host}: {bad[:5]}"


def test_systemd_brings_a_killed_master_back(stack):
    host = app_hosts(stack)[0]
    before = stack.sh(host, f"systemctl show -p MainPID --value {UNIT}").stdout.strip()
    killed_at = time.monotonic()
    stack.sh(host, f"kill -9 {before}")

    def healthy_again():
        pid = stack.sh(host, f"systemctl show -p MainPID --value {UNIT}").stdout.strip()
        if pid in ("0", before):
            return False
        probe = "curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8000/health"
        return stack.sh(host, probe).stdout == "200"

    assert wait_for(healthy_again, 10, interval=0.25)
    print(
        f"\n{host}: gunicorn master killed; /health 200 again after "
        f"{time.monotonic() - killed_at:.1f} s"
    )


def test_a_new_commit_rolls_out_with_no_failed_request(stack):
    site, address = stack.site_name(), web_address(stack)
    # The new commit: a new release label and a new migration.
    work = Path(tempfile.mkdtemp())
    try:
        tree = work / "app"
        shutil.copytree(gitserve.APP_SOURCE, tree, ignore=shutil.ignore_patterns("__pycache__"))
        (tree / "RELEASE").write_text("2\n")
        (tree / "migrations/versions/0002_deploy_marks.py").write_text(MIGRATION_0002)
        gitserve.commit_tree(tree, "release 2")
    finally:
        shutil.rmtree(work)

    load = LoadLoop(site, address)
    load.start()
    try:
        time.sleep(2)
        per_minion, steps = stack.orchestrate()
        time.sleep(2)
    finally:
        load.stop()
    print(f"\ndeploy under load: {load.sent} requests to /health, {len(load.failed)} failed")
    assert all(steps.values()), steps
    assert not failures(per_minion)
    assert load.sent > 50
    assert not load.failed, load.failed[:10]

    # The migration ran once, whichever app host got to it first: it left one row.
    db = next(n for n, h in stack.hosts.items() if "db" in h.roles)
    rows = stack.sh(
        db, "runuser -u postgres -- psql -tA acoustic -c 'SELECT count(*) FROM deploy_marks'"
    )
    assert rows.stdout.strip() == "1", rows.stdout + rows.stderr
    # Every app host serves the new release (nginx spreads requests over both).
    releases = set()
    for _ in range(6):
        out = stack.curl(f"https://{site}/request")
        releases.add(json.loads(out.stdout)["release"])
    assert releases == {"2"}
