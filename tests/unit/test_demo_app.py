"""The acoustic-lab WSGI app, called directly with its database and cache checks patched."""

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples" / "acoustic-lab"))

from acoustic_lab import wsgi  # noqa: E402


def call(path, method="GET", **environ):
    captured = {}

    def start_response(status, headers):
        captured["status"] = status
        captured["headers"] = dict(headers)

    body = b"".join(
        wsgi.application({"PATH_INFO": path, "REQUEST_METHOD": method, **environ}, start_response)
    )
    return captured["status"], captured["headers"], body


def passing():
    return None


def failing(message):
    def check():
        raise ConnectionError(message)

    return check


@pytest.fixture
def checks(monkeypatch):
    """Replace the real checks; a test sets entries of the returned dict."""
    patched = {"postgres": passing, "redis": passing}
    monkeypatch.setattr(wsgi, "CHECKS", patched)
    return patched


@pytest.fixture
def stores(monkeypatch):
    """Redis sessions and the PostgreSQL counter as dicts; the test reads them back."""
    sessions, views = {}, {"total": 0}

    def visit(session_id):
        sessions[session_id] = sessions.get(session_id, 0) + 1
        return sessions[session_id]

    def view():
        views["total"] += 1
        return views["total"]

    monkeypatch.setattr(wsgi, "count_session_visit", visit)
    monkeypatch.setattr(wsgi, "count_page_view", view)
    return sessions, views


HTTPS = {"wsgi.url_scheme": "https"}


def test_index_is_html(stores):
    status, headers, body = call("/", HTTP_HOST="app.example.test", **HTTPS)
    assert status == "200 OK"
    assert headers["Content-Type"].startswith("text/html")
    assert b"acoustic-lab" in body and b"app.example.test" in body
    assert headers["Content-Length"] == str(len(body))


def test_index_escapes_host_header(stores):
    _, _, body = call("/", HTTP_HOST="<script>", **HTTPS)
    assert b"<script>" not in body


def test_session_counter_follows_the_cookie(stores):
    sessions, views = stores
    _, headers, body = call("/", **HTTPS)
    cookie = headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    session_id = cookie.split(";")[0].split("=", 1)[1]
    assert b'<span id="visits">1</span>' in body

    _, headers, body = call("/", HTTP_COOKIE=f"acoustic_sid={session_id}", **HTTPS)
    assert b'<span id="visits">2</span>' in body
    assert headers["Set-Cookie"].startswith(f"acoustic_sid={session_id};")
    assert b'<span id="views">2</span>' in body
    assert sessions == {session_id: 2} and views["total"] == 2


@pytest.mark.parametrize("cookie", ["acoustic_sid=short", "acoustic_sid=../../etc", 'bad;;="x'])
def test_a_forged_session_cookie_gets_a_new_session(stores, cookie):
    _, headers, body = call("/", HTTP_COOKIE=cookie, **HTTPS)
    new_id = headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
    assert len(new_id) == 43 and new_id in stores[0]
    assert b'<span id="visits">1</span>' in body


def test_index_is_503_without_redis_and_names_no_password(monkeypatch, stores):
    def down(_session_id):
        raise ConnectionError("cannot reach redis://:s3cret@10.0.0.9:6379/0")

    monkeypatch.setattr(wsgi, "count_session_visit", down)
    status, _, body = call("/", **HTTPS)
    assert status == "503 Service Unavailable"
    assert b"s3cret" not in body and b"ConnectionError" in body


def test_unknown_path_is_404_and_post_is_405():
    assert call("/nope")[0] == "404 Not Found"
    assert call("/health", method="POST")[0] == "405 Method Not Allowed"


def test_health_ok_when_both_answer(checks):
    status, headers, body = call("/health")
    assert status == "200 OK"
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {
        "status": "ok",
        "checks": {
            "postgres": {"ok": True, "error": None},
            "redis": {"ok": True, "error": None},
        },
    }


@pytest.mark.parametrize("broken", ["postgres", "redis"])
def test_health_503_names_the_failed_check(checks, broken):
    checks[broken] = failing("connection refused")
    status, _, body = call("/health")
    report = json.loads(body)
    assert status == "503 Service Unavailable"
    assert report["status"] == "fail"
    assert report["checks"][broken]["ok"] is False
    assert "connection refused" in report["checks"][broken]["error"]
    other = "redis" if broken == "postgres" else "postgres"
    assert report["checks"][other] == {"ok": True, "error": None}


def test_health_never_reports_passwords(checks):
    checks["postgres"] = failing("cannot reach postgresql://acoustic:s3cret@10.0.0.9:5432/app")
    checks["redis"] = failing("cannot reach redis://:s3cret@10.0.0.9:6379/0")
    _, _, body = call("/health")
    assert b"s3cret" not in body
    assert b"***" in body


def test_missing_urls_fail_without_touching_the_network(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    # The drivers are imported before the URL is read; stand-ins keep this test offline.
    monkeypatch.setitem(sys.modules, "psycopg", object())
    monkeypatch.setitem(sys.modules, "redis", object())
    status, _, body = call("/health")
    report = json.loads(body)
    assert status == "503 Service Unavailable"
    assert "DATABASE_URL is not set" in report["checks"]["postgres"]["error"]
    assert "REDIS_URL is not set" in report["checks"]["redis"]["error"]


def test_checks_use_short_timeouts(monkeypatch):
    seen = {}

    class FakeConnection:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def execute(self, query):
            seen.setdefault("queries", []).append(query)
            return self

        def fetchone(self):
            return (1,)

        def cancel(self):
            seen["cancelled"] = True

    class FakePsycopg:
        @staticmethod
        def connect(url, **kwargs):
            seen["postgres"] = kwargs
            return FakeConnection()

    class FakeClient:
        def ping(self):
            return True

        def close(self):
            seen["closed"] = True

    class FakeRedis:
        class Redis:
            @staticmethod
            def from_url(url, **kwargs):
                seen["redis"] = kwargs
                return FakeClient()

    monkeypatch.setitem(sys.modules, "psycopg", FakePsycopg)
    monkeypatch.setitem(sys.modules, "redis", FakeRedis)
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@127.0.0.1/db")
    monkeypatch.setenv("REDIS_URL", "redis://:p@127.0.0.1:6379/0")

    assert call("/health")[0] == "200 OK"
    assert seen["postgres"]["connect_timeout"] == 2
    assert "options" not in seen["postgres"]  # PgBouncer refuses startup options
    assert seen["postgres"]["prepare_threshold"] is None
    assert seen["queries"] == ["SET LOCAL statement_timeout = 2000", "SELECT 1"]
    assert "cancelled" not in seen  # answered in time: the deadline was called off
    assert seen["redis"]["socket_connect_timeout"] == 2
    assert seen["redis"]["socket_timeout"] == 2
    assert seen["closed"] is True


def test_plain_http_is_redirected_to_https_but_health_is_not(checks, stores):
    status, headers, _ = call("/", HTTP_HOST="app.example.test", QUERY_STRING="a=1")
    assert status == "301 Moved Permanently"
    assert headers["Location"] == "https://app.example.test/?a=1"
    assert call("/health")[0] == "200 OK"
    assert call("/nope")[0] == "404 Not Found"


@pytest.mark.parametrize(
    ("peer", "client"),
    [("198.18.0.10", "203.0.113.7"), ("198.18.0.99", "198.18.0.99")],
    ids=["trusted-proxy", "untrusted-peer"],
)
def test_x_real_ip_counts_only_from_a_trusted_proxy(monkeypatch, peer, client):
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "127.0.0.1, 198.18.0.10")
    status, _, body = call(
        "/request",
        REMOTE_ADDR=peer,
        HTTP_X_REAL_IP="203.0.113.7",
        HTTP_HOST="app.example.test",
        **{"wsgi.url_scheme": "https"},
    )
    assert status == "200 OK"
    assert json.loads(body) == {
        "scheme": "https",
        "host": "app.example.test",
        "client": client,
        "release": wsgi.release(),
    }


def test_a_query_held_by_the_pooler_is_cancelled_in_time(monkeypatch):
    import threading

    cancelled = threading.Event()

    class HeldConnection:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def execute(self, query):
            if query == "SELECT 1":
                # Like PgBouncer waiting for a server that is down: only a cancel ends it.
                if not cancelled.wait(5):
                    raise AssertionError("never cancelled")
                raise RuntimeError("canceling statement due to user request")
            return self

        def cancel(self):
            cancelled.set()

    class FakePsycopg:
        @staticmethod
        def connect(url, **kwargs):
            return HeldConnection()

    monkeypatch.setitem(sys.modules, "psycopg", FakePsycopg)
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@127.0.0.1/db")
    monkeypatch.setattr(wsgi, "CONNECT_TIMEOUT_SECONDS", 0.2)
    with pytest.raises(RuntimeError, match="canceling statement"):
        wsgi.check_postgres()
    assert cancelled.is_set()
