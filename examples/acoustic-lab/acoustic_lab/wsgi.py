"""A small WSGI application: a page with a per-visitor session counter kept in Redis and a
site-wide counter kept in PostgreSQL, and a health check of both.

Connection settings come from the environment:

``DATABASE_URL``
    A libpq URL, for example ``postgresql://user:password@127.0.0.1:5432/acoustic``.
``REDIS_URL``
    A redis-py URL, for example ``redis://:password@127.0.0.1:6379/0``.

``FORWARDED_ALLOW_IPS``
    Comma-separated addresses of the reverse proxies (gunicorn reads the same variable). Only a
    request from one of them may say, through ``X-Real-IP``, who the client is; gunicorn applies
    the same rule to ``X-Forwarded-Proto``. Defaults to ``127.0.0.1``.

``/`` returns a small HTML page that counts the visitor's visits (a session in Redis, named by
an HttpOnly, Secure cookie) and the site's page views (a row in PostgreSQL, whose schema the
Alembic migrations in ``migrations/`` create), and ``/request`` JSON with the scheme, host and
client address the app believes. A plain-HTTP request to either is redirected to HTTPS: behind
the proxy that works only when the proxy says the visitor used HTTPS and the app trusts it.

``/health`` returns JSON naming each check and whether it answered; 200 when all answered, 503
otherwise; it is never redirected, so monitors on the host can reach it. Each check gives up after
``CONNECT_TIMEOUT_SECONDS`` so the endpoint never hangs, and error texts never carry the
connection URL or its password.
"""

import html
import json
import logging
import os
import re
import secrets
import threading
from http.cookies import CookieError, SimpleCookie
from pathlib import Path

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_SECONDS = 2
SESSION_COOKIE = "acoustic_sid"
SESSION_TTL_SECONDS = 7 * 24 * 3600
_SESSION_ID = re.compile(r"[A-Za-z0-9_-]{43}")
# A release label shipped with the code (one line); /request shows it, so a deploy can be seen.
RELEASE_FILE = Path(__file__).resolve().parent.parent / "RELEASE"


def release():
    try:
        return RELEASE_FILE.read_text().strip() or "unlabelled"
    except OSError:
        return "unlabelled"


_URL_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")


def _redact(text):
    """Remove any password embedded in a connection URL inside ``text``."""
    return _URL_PASSWORD.sub(r"\1***@", text)


def _query_one(sql):
    """Run ``sql`` on ``DATABASE_URL`` in one short transaction; return its first row."""
    import psycopg

    url = os.environ.get("DATABASE_URL")
    if not url:
        raise RuntimeError("DATABASE_URL is not set")

    timeout_ms = CONNECT_TIMEOUT_SECONDS * 1000
    # Through PgBouncer in transaction pooling: no startup "options" (PgBouncer refuses them),
    # no server-side prepared statements; the timeout is set for this transaction only.
    with psycopg.connect(
        url, connect_timeout=CONNECT_TIMEOUT_SECONDS, prepare_threshold=None
    ) as conn:
        # The pooler may hold the query while it waits for a server that is down: cancel it
        # from here once the time is up, so a request never hangs on the database.
        deadline = threading.Timer(CONNECT_TIMEOUT_SECONDS, conn.cancel)
        deadline.start()
        try:
            conn.execute(f"SET LOCAL statement_timeout = {int(timeout_ms)}")
            return conn.execute(sql).fetchone()
        finally:
            deadline.cancel()


def check_postgres():
    """Run ``SELECT 1`` on ``DATABASE_URL``; raise on any failure."""
    _query_one("SELECT 1")


def _redis_from_env():
    """A new Redis client for ``REDIS_URL``, with the short timeouts."""
    import redis

    url = os.environ.get("REDIS_URL")
    if not url:
        raise RuntimeError("REDIS_URL is not set")
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
        socket_timeout=CONNECT_TIMEOUT_SECONDS,
    )


def check_redis():
    """Send ``PING`` to ``REDIS_URL`` on a connection of its own; raise on any failure."""
    client = _redis_from_env()
    try:
        if not client.ping():
            raise RuntimeError("PING was not answered with PONG")
    finally:
        client.close()


CHECKS = {
    "postgres": check_postgres,
    "redis": check_redis,
}


def run_checks():
    """Run every check and return ``(all_ok, results)`` for the health report."""
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as err:  # noqa: BLE001 - any failure is a failed check
            error = _redact(f"{type(err).__name__}: {err}".strip())
            log.warning("health check %s failed: %s", name, error)
            results[name] = {"ok": False, "error": error}
        else:
            results[name] = {"ok": True, "error": None}
    return all(result["ok"] for result in results.values()), results


def _respond(start_response, status, content_type, body, extra_headers=()):
    payload = body.encode("utf-8")
    start_response(
        status,
        [
            ("Content-Type", content_type),
            ("Content-Length", str(len(payload))),
            ("Cache-Control", "no-store"),
            *extra_headers,
        ],
    )
    return [payload]


def health(environ, start_response):
    all_ok, results = run_checks()
    status = "200 OK" if all_ok else "503 Service Unavailable"
    body = json.dumps({"status": "ok" if all_ok else "fail", "checks": results})
    return _respond(start_response, status, "application/json", body)


def trusted_proxies():
    raw = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
    return {address.strip() for address in raw.split(",") if address.strip()}


def client_address(environ):
    """The visitor's address: X-Real-IP when a trusted proxy sent the request, else the peer."""
    peer = environ.get("REMOTE_ADDR", "")
    forwarded = environ.get("HTTP_X_REAL_IP", "").strip()
    if forwarded and (peer in trusted_proxies() or "*" in trusted_proxies()):
        return forwarded
    return peer


def request_info(environ, start_response):
    body = json.dumps(
        {
            "scheme": environ.get("wsgi.url_scheme", "http"),
            "host": environ.get("HTTP_HOST", ""),
            "client": client_address(environ),
            "release": release(),
        }
    )
    return _respond(start_response, "200 OK", "application/json", body)


def _redis_client():
    """One client (and connection pool) per worker process, for sessions."""
    global _REDIS
    if _REDIS is None:
        _REDIS = _redis_from_env()
    return _REDIS


_REDIS = None


def count_session_visit(session_id):
    """Add one visit to the session's count in Redis and return it; the session lives on for
    SESSION_TTL_SECONDS after its last visit."""
    key = f"session:{session_id}"
    pipe = _redis_client().pipeline()
    pipe.hincrby(key, "visits", 1)
    pipe.expire(key, SESSION_TTL_SECONDS)
    visits, _ = pipe.execute()
    return int(visits)


def count_page_view():
    """Add one to the site's page views in PostgreSQL and return the new total."""
    row = _query_one(
        "INSERT INTO site_counters (name, value) VALUES ('page_views', 1) "
        "ON CONFLICT (name) DO UPDATE SET value = site_counters.value + 1 "
        "RETURNING value"
    )
    return int(row[0])


def session_id_of(environ):
    """The visitor's session ID from its cookie, or None when it has none or a forged one."""
    try:
        cookie = SimpleCookie(environ.get("HTTP_COOKIE", ""))
    except CookieError:
        return None
    morsel = cookie.get(SESSION_COOKIE)
    if morsel is None or not _SESSION_ID.fullmatch(morsel.value):
        return None
    return morsel.value


def index(environ, start_response):
    host = html.escape(environ.get("HTTP_HOST", "localhost"))
    session_id = session_id_of(environ) or secrets.token_urlsafe(32)
    try:
        visits = count_session_visit(session_id)
        views = count_page_view()
    except Exception as err:  # noqa: BLE001 - the page says what failed, never a password
        error = _redact(f"{type(err).__name__}: {err}")
        log.warning("index: %s", error)
        return _respond(
            start_response,
            "503 Service Unavailable",
            "text/plain; charset=utf-8",
            f"unavailable: {error}\n",
        )
    body = (
        "<!doctype html>\n"
        '<html><head><meta charset="utf-8"><title>acoustic-lab</title></head>\n'
        f"<body><h1>acoustic-lab</h1><p>Served for {host}.</p>"
        f'<p>Your visits in this session: <span id="visits">{visits}</span></p>'
        f'<p>Page views of the site: <span id="views">{views}</span></p>'
        '<p>Health: <a href="/health">/health</a></p></body></html>\n'
    )
    cookie = (
        f"{SESSION_COOKIE}={session_id}; Path=/; Max-Age={SESSION_TTL_SECONDS}; "
        "Secure; HttpOnly; SameSite=Lax"
    )
    return _respond(
        start_response, "200 OK", "text/html; charset=utf-8", body, [("Set-Cookie", cookie)]
    )


def not_found(environ, start_response):
    return _respond(start_response, "404 Not Found", "text/plain; charset=utf-8", "not found\n")


ROUTES = {
    "/": index,
    "/health": health,
    "/request": request_info,
}
# Served over plain HTTP too: health checks run on the host itself, without TLS.
PLAIN_HTTP_PATHS = {"/health"}


def redirect_to_https(environ, start_response):
    host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "localhost")
    target = f"https://{host}{environ.get('PATH_INFO') or '/'}"
    if environ.get("QUERY_STRING"):
        target += "?" + environ["QUERY_STRING"]
    start_response("301 Moved Permanently", [("Location", target), ("Content-Length", "0")])
    return [b""]


def application(environ, start_response):
    """The WSGI entry point: route by path, GET and HEAD only."""
    method = environ.get("REQUEST_METHOD", "GET")
    if method not in ("GET", "HEAD"):
        start_response("405 Method Not Allowed", [("Allow", "GET, HEAD"), ("Content-Length", "0")])
        return [b""]

    path = environ.get("PATH_INFO") or "/"
    if path in ROUTES and path not in PLAIN_HTTP_PATHS:
        if environ.get("wsgi.url_scheme", "http") != "https":
            return redirect_to_https(environ, start_response)
    handler = ROUTES.get(path, not_found)
    return handler(environ, start_response)
