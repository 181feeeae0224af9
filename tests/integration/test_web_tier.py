"""The web tier on booted hosts, judged from outside: curl as a visitor, sslyze against Mozilla's
intermediate profile, gixy-ng over the configuration nginx really loaded, and certbot renewing
against the lab's ACME CA."""

import json
import re
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from labkit import acme, paths
from labkit.driver import changes, failures, wait_for

pytestmark = pytest.mark.parametrize("stack", ["cluster"], indirect=True)

REPO = Path(__file__).resolve().parents[2]
JUDGES = REPO / ".venv-judges" / "bin"
SETTINGS = yaml.safe_load((REPO / "pillar/staging/settings.sls").read_text())
SITE = SETTINGS["nginx"]["site"]["server_names"][0]
SECURITY_HEADERS = (
    "strict-transport-security",
    "x-frame-options",
    "x-content-type-options",
    "referrer-policy",
    "content-security-policy",
    "permissions-policy",
)


def web_host(fleet):
    return next(name for name, host in fleet.hosts.items() if "web" in host.roles)


def headers_of(fleet, path, scheme="https"):
    """(status, {lower-case header: value}) of a GET, as curl saw it."""
    out = fleet.curl(f"{scheme}://{SITE}{path}", "--include", "--output", "-")
    assert out.returncode == 0, out.stderr
    # Text mode has already turned curl's CRLF into LF.
    head = out.stdout.split("\n\n", 1)[0].splitlines()
    status = int(head[0].split()[1])
    fields = dict(line.split(":", 1) for line in head[1:] if ":" in line)
    return status, {k.strip().lower(): v.strip() for k, v in fields.items()}


def codes(fleet, path, count):
    """HTTP status of ``count`` requests sent back to back over one connection."""
    url = f"https://{SITE}{path}"
    options = ["--write-out", "%{http_code}\n"]
    for _ in range(count - 1):
        options += ["--output", "/dev/null", url]
    out = fleet.curl(url, *options, "--output", "/dev/null")
    return [int(code) for code in out.stdout.split()]


def served_serial(fleet):
    """Serial number of the certificate that port 443 serves for the site, in hex."""
    address = fleet.hosts[web_host(fleet)].address
    pem = subprocess.run(
        ["openssl", "s_client", "-connect", f"{address}:443", "-servername", SITE],
        input="",
        capture_output=True,
        text=True,
        timeout=20,
    ).stdout
    serial = subprocess.run(
        ["openssl", "x509", "-noout", "-serial"], input=pem, capture_output=True, text=True
    )
    return serial.stdout.strip().split("=")[-1].upper()


def test_http_redirects_to_https_permanently(stack):
    status, headers = headers_of(stack, "/some/page?x=1", scheme="http")
    assert status == 301
    assert headers["location"] == f"https://{SITE}/some/page?x=1"


def test_the_certificate_comes_from_the_acme_ca(stack):
    # curl verifies the chain against the lab's ACME root: a bootstrap certificate would fail.
    out = stack.curl(
        f"https://{SITE}/health", "--output", "/dev/null", "--write-out", "%{http_code}"
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == "200"


@pytest.mark.parametrize("path", ["/", "/health", "/no-such-page"])
def test_every_response_carries_the_security_headers(stack, path):
    status, headers = headers_of(stack, path)
    assert status == (404 if path == "/no-such-page" else 200)
    missing = [name for name in SECURITY_HEADERS if name not in headers]
    assert not missing, f"{path} ({status}) lacks {missing}"
    max_age = int(re.search(r"max-age=(\d+)", headers["strict-transport-security"]).group(1))
    assert max_age >= 31536000
    assert "server" not in headers or "/" not in headers["server"]  # server_tokens off


def test_a_502_from_nginx_carries_the_security_headers_too(stack):
    apps = [name for name, host in stack.hosts.items() if "app" in host.roles]
    with stack.maintenance(*apps):
        for name in apps:
            stack.sh(name, "systemctl stop acoustic-lab")
        try:
            status, headers = headers_of(stack, "/")
            assert status == 502
            missing = [name for name in SECURITY_HEADERS if name not in headers]
            assert not missing, f"the 502 page lacks {missing}"
        finally:
            for name in apps:
                stack.sh(name, "systemctl start acoustic-lab")
    assert wait_for(lambda: headers_of(stack, "/health")[0] == 200, 20)


def test_rate_limit_answers_429_and_spares_health(stack):
    health = codes(stack, "/health", 50)
    assert health == [200] * 50
    pages = codes(stack, "/", 60)
    print(f"\n60 quick requests to /: {pages.count(200)} x 200, {pages.count(429)} x 429")
    assert 429 in pages
    assert set(pages) <= {200, 429}
    # /health is still answered while the limiter turns other paths away.
    assert codes(stack, "/health", 5) == [200] * 5
    # Leave the limiter drained for the tests after this one: burst / rate seconds and more.
    time.sleep(4)
    assert codes(stack, "/", 1) == [200]


def test_proxy_headers_reach_the_app(stack):
    # The app redirects plain HTTP to HTTPS; through nginx the visitor's HTTPS must reach it,
    # so the site answers at once, with no redirect loop (C7).
    out = stack.curl(
        f"https://{SITE}/",
        "--location",
        "--max-redirs",
        "2",
        "--output",
        "/dev/null",
        "--write-out",
        "%{http_code} %{num_redirects}",
    )
    assert out.stdout == "200 0", out.stdout + out.stderr

    out = stack.curl(f"https://{SITE}/request")
    seen = json.loads(out.stdout)
    # This machine is the visitor: its bridge address is what nginx saw and passed on.
    assert (seen["scheme"], seen["host"], seen["client"]) == ("https", SITE, paths.GATEWAY)


def test_the_app_ignores_forwarded_headers_from_anyone_else(stack):
    # Straight to gunicorn from an address that is not a proxy (the app host's own, not
    # loopback; the firewall keeps every other host out): the headers are not believed.
    name, app = next((n, h) for n, h in stack.hosts.items() if "app" in h.roles)
    out = stack.sh(
        name,
        f"curl -s -o /dev/null -w '%{{http_code}} %{{redirect_url}}' "
        f"-H 'Host: {SITE}' -H 'X-Forwarded-Proto: https' -H 'X-Real-IP: 203.0.113.7' "
        f"http://{app.address}:8000/request",
    )
    assert out.stdout.startswith(f"301 https://{SITE}/request"), out.stdout


def test_sslyze_finds_the_site_compliant_with_mozilla_intermediate(stack):
    address = stack.hosts[web_host(stack)].address
    out = subprocess.run(
        [
            str(JUDGES / "sslyze"),
            "--mozilla_config=intermediate",
            f"--certinfo_ca_file={acme.ACME_DIR / 'issuing-root.pem'}",
            # host:port{ip}: the name for SNI and the certificate, the address to connect to.
            f"{SITE}:443{{{address}}}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    print(out.stdout[-600:])
    # sslyze exits 0 also when it could not connect at all: the verdict line must be there.
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert f"{SITE}:443: OK - Compliant" in out.stdout, out.stdout[-3000:]


def test_gixy_finds_nothing_in_the_loaded_configuration(stack):
    dump = stack.sh(web_host(stack), "nginx -T 2>/dev/null")
    assert dump.returncode == 0
    out = subprocess.run(
        [str(JUDGES / "gixy"), "-f", "json", "-"],
        input=dump.stdout,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout[-4000:]


def test_a_renewed_certificate_is_served_without_a_manual_step(stack):
    web = web_host(stack)
    before = served_serial(stack)
    # As the renewal timer runs it (whose unit trusts the lab's ACME directory CA), without
    # certbot's random wait for unattended runs.
    renew = stack.sh(
        web,
        "REQUESTS_CA_BUNDLE=/etc/letsencrypt/acme-directory-ca.pem "
        "certbot renew --force-renewal --no-random-sleep-on-renew --quiet",
    )
    assert renew.returncode == 0, renew.stderr
    new = stack.sh(
        web, "openssl x509 -noout -serial -in /etc/letsencrypt/live/acoustic-lab/cert.pem"
    )
    new_serial = new.stdout.strip().split("=")[-1].upper()
    assert new_serial != before
    assert wait_for(lambda: served_serial(stack) == new_serial, 10)


def test_second_highstate_changes_and_reloads_nothing(stack):
    web = web_host(stack)
    # Whole seconds: a reload in this second (a renewal's hook) must not count.
    since = stack.sh(web, "sleep 1.1; date +%s").stdout.strip()
    second = stack.apply(web)
    assert not failures(second)
    assert not changes(second)
    # systemd logs every reload and restart of the unit.
    log = stack.sh(web, f"journalctl -u nginx --since @{since} -o cat | grep -E 'Reload|Stopp'")
    assert not log.stdout.strip(), log.stdout


# Last in the module on purpose: the shared cluster keeps app3 for whatever runs after.
def test_an_added_app_host_joins_the_upstream(stack):
    web = web_host(stack)
    app3 = stack.add_host("app3", ["app"], "198.18.0.23")
    result = stack.apply()
    assert not failures(result), failures(result)

    upstream = stack.sh(web, "nginx -T 2>/dev/null | grep -E '^\\s*server .*:8000'").stdout
    app_addresses = sorted(h.address for h in stack.hosts.values() if "app" in h.roles)
    assert sorted(re.findall(r"server ([\d.]+):8000", upstream)) == app_addresses

    # Round robin over three hosts: within a few requests, app3 answers one.
    since = stack.sh("app3", "date +%s").stdout.strip()
    assert codes(stack, "/health", 9) == [200] * 9
    served = stack.sh("app3", f"journalctl -u acoustic-lab --since @{since} -o cat | grep -c GET")
    assert int(served.stdout.strip() or 0) >= 1, f"app3 ({app3.address}) got no request"
