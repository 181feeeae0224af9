"""A small WSGI application with a health check of its PostgreSQL database and Redis cache.

Connection settings come from the environment:

``DATABASE_URL``
    A libpq URL, for example ``postgresql://user:password@127.0.0.1:5432/acoustic``.
``REDIS_URL``
    A redis-py URL, for example ``redis://:password@127.0.0.1:6379/0``.

``/`` returns a small HTML page. ``/health`` returns JSON naming each check and whether it
answered; 200 when all answered, 503 otherwise. Each check gives up after
``CONNECT_TIMEOUT_SECONDS`` so the endpoint never hangs, and error texts never carry the
connection URL or its password.
"""

import html
import json
import logging
import os
import re

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_SECONDS = 2

_URL_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")


def _redact(text):
    """Remove any password embedded in a connection URL inside ``text``."""
    return _URL_PASSWORD.sub(r"\1***@", text)


def check_postgres():
    """Run ``SELECT 1`` on ``DATABASE_URL``; raise on any failure."""
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
        conn.execute(f"SET LOCAL statement_timeout = {int(timeout_ms)}")
        conn.execute("SELECT 1").fetchone()


def check_redis():
    """Send ``PING`` to ``REDIS_URL``; raise on any failure."""
    import redis

    url = os.environ.get("REDIS_URL")
    if not url:
        raise RuntimeError("REDIS_URL is not set")

    client = redis.Redis.from_url(
        url,
        socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
        socket_timeout=CONNECT_TIMEOUT_SECONDS,
    )
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


def _respond(start_response, status, content_type, body):
    payload = body.encode("utf-8")
    start_response(
        status,
        [
            ("Content-Type", content_type),
            ("Content-Length", str(len(payload))),
            ("Cache-Control", "no-store"),
        ],
    )
    return [payload]


def health(environ, start_response):
    all_ok, results = run_checks()
    status = "200 OK" if all_ok else "503 Service Unavailable"
    body = json.dumps({"status": "ok" if all_ok else "fail", "checks": results})
    return _respond(start_response, status, "application/json", body)


def index(environ, start_response):
    host = html.escape(environ.get("HTTP_HOST", "localhost"))
    body = (
        "<!doctype html>\n"
        '<html><head><meta charset="utf-8"><title>acoustic-lab</title></head>\n'
        f"<body><h1>acoustic-lab</h1><p>Served for {host}.</p>"
        '<p>Health: <a href="/health">/health</a></p></body></html>\n'
    )
    return _respond(start_response, "200 OK", "text/html; charset=utf-8", body)


def not_found(environ, start_response):
    return _respond(start_response, "404 Not Found", "text/plain; charset=utf-8", "not found\n")


ROUTES = {
    "/": index,
    "/health": health,
}


def application(environ, start_response):
    """The WSGI entry point: route by path, GET and HEAD only."""
    method = environ.get("REQUEST_METHOD", "GET")
    if method not in ("GET", "HEAD"):
        start_response("405 Method Not Allowed", [("Allow", "GET, HEAD"), ("Content-Length", "0")])
        return [b""]

    handler = ROUTES.get(environ.get("PATH_INFO") or "/", not_found)
    return handler(environ, start_response)
