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


def test_index_is_html():
    status, headers, body = call("/", HTTP_HOST="app.example.test")
    assert status == "200 OK"
    assert headers["Content-Type"].startswith("text/html")
    assert b"acoustic-lab" in body and b"app.example.test" in body
    assert headers["Content-Length"] == str(len(body))


def test_index_escapes_host_header():
    _, _, body = call("/", HTTP_HOST="<script>")
    assert b"<script>" not in body


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
    assert seen["redis"]["socket_connect_timeout"] == 2
    assert seen["redis"]["socket_timeout"] == 2
    assert seen["closed"] is True
