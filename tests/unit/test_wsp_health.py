"""The health module and its state, with Salt's dunders mocked.

/proc is replaced by texts given to each test (the module reads it through one function),
``cmd.run_all`` by a recorder that answers as systemctl, psql and redis-cli would, and the HTTP
checks talk to real servers on 127.0.0.1 (plain HTTP, and HTTPS with a certificate of a test CA).
"""

import http.server
import importlib.util
import json
import logging
import os
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from salt.exceptions import CommandExecutionError, SaltInvocationError

REPO = Path(__file__).resolve().parents[2]
RESULT_KEYS = {"name", "ok", "value", "threshold", "unit", "message", "seconds"}
REDIS_PASSWORD = "redis-secret-9f2b7c"
DB_PASSWORD = "db-secret-41d0aa"


def load(kind):
    spec = importlib.util.spec_from_file_location(
        f"{kind}_wsp_health", REPO / kind / "wsp_health.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


mod = load("_modules")
state = load("_states")


def stat_line(busy, idle):
    """A /proc/stat whose all-CPU line has ``busy`` user ticks and ``idle`` idle ticks."""
    return f"cpu  {busy} 0 0 {idle} 0 0 0 0 0 0\ncpu0 {busy} 0 0 {idle} 0 0 0 0 0 0\n"


MEMINFO = "MemTotal:       1000000 kB\nMemFree:         50000 kB\nMemAvailable:   {} kB\n"

MOUNTS = """\
proc /proc proc rw,nosuid 0 0
overlay / overlay rw,relatime 0 0
tmpfs /run tmpfs rw,nosuid 0 0
/dev/vdb /srv/data ext4 rw,relatime 0 0
/dev/vdb /srv/bound ext4 rw,relatime 0 0
/dev/vdc /mnt/iso ext4 ro,relatime 0 0
/dev/vdd /srv/with\\040space xfs rw 0 0
cgroup2 /sys/fs/cgroup cgroup2 rw 0 0
"""


class FakeProc:
    """Files under /proc by name; a list is read one item per call (the last one repeats)."""

    def __init__(self, **files):
        self.files = files

    def __call__(self, name):
        value = self.files[name.replace("/", "_")]
        if isinstance(value, list):
            return value.pop(0) if len(value) > 1 else value[0]
        return value


class FakeCommands:
    """cmd.run_all: records each call and answers by program name."""

    def __init__(self, answers=None):
        self.calls = []
        self.answers = {
            "systemctl": None,
            "runuser": {"retcode": 0, "stdout": "1\n", "stderr": ""},
            "psql": {"retcode": 0, "stdout": "1\n", "stderr": ""},
            "redis-cli": {"retcode": 0, "stdout": "PONG\n", "stderr": ""},
        }
        self.answers.update(answers or {})

    def __call__(self, argv, env=None, **kwargs):
        self.calls.append({"argv": list(argv), "env": dict(env or {}), **kwargs})
        answer = self.answers[argv[0]]
        if isinstance(answer, Exception):
            raise answer
        if callable(answer):
            return answer(argv)
        return dict(answer)


def all_active(argv):
    units = argv[argv.index("--") + 1 :]
    return {"retcode": 0, "stdout": "\n".join("active" for _ in units) + "\n", "stderr": ""}


def statvfs_table(table):
    """os.statvfs replaced: mount point -> (fsid, blocks, available blocks)."""

    def fake(path):
        if path not in table:
            raise FileNotFoundError(2, "No such file or directory")
        fsid, blocks, avail = table[path]
        return SimpleNamespace(f_fsid=fsid, f_blocks=blocks, f_bavail=avail, f_frsize=4096)

    return fake


@pytest.fixture
def health(salt_dunders, monkeypatch):
    """The execution module with a fake /proc, fake commands and the given pillar and grains."""

    def give(pillar=None, roles=(), proc=None, commands=None, statvfs=None):
        commands = commands or FakeCommands({"systemctl": all_active})
        salt_dunders(
            mod,
            pillar=pillar,
            grains={"roles": list(roles)},
            salt={"cmd.run_all": commands},
        )
        proc = proc or FakeProc(
            stat=[stat_line(100, 900), stat_line(150, 1850)],
            meminfo=MEMINFO.format(400000),
            self_mounts=MOUNTS,
        )
        monkeypatch.setattr(mod, "_read", proc)
        table = statvfs or {
            "/": (1, 1000, 500),
            "/srv/data": (2, 1000, 300),
            "/srv/bound": (2, 1000, 300),
            "/srv/with space": (3, 1000, 50),
        }
        monkeypatch.setattr(mod, "_statvfs", statvfs_table(table))
        return mod

    return give


def only(report):
    assert len(report["checks"]) == 1, report
    return report["checks"][0]


# CPU ----------------------------------------------------------------------------------------


def test_cpu_over_a_window(health):
    started = time.monotonic()
    report = health().cpu(window=0.05, max_age=0)
    result = only(report)
    # 50 busy ticks of 1000: 5%.
    assert result["value"] == 5.0 and result["ok"] is True and result["unit"] == "%"
    assert result["threshold"] == 80 and set(result) == RESULT_KEYS
    assert time.monotonic() - started >= 0.05
    assert report["ok"] is True and report["status"] == "ok" and report["failing"] == []


def test_cpu_sustained_load_fails_and_threshold_from_pillar(health):
    proc = FakeProc(stat=[stat_line(0, 1000), stat_line(900, 1100)])
    result = only(health(proc=proc).cpu(window=0, max_age=0))
    assert result["value"] == 90.0 and result["ok"] is False
    assert "over 80%" in result["message"]

    pillar = {"monitoring": {"thresholds": {"cpu_percent": 95}}}
    proc = FakeProc(stat=[stat_line(0, 1000), stat_line(900, 1100)])
    assert only(health(pillar=pillar, proc=proc).cpu(window=0, max_age=0))["ok"] is True


def test_cpu_starts_from_the_previous_checks_sample(health):
    # The first check leaves its last sample (50% busy so far) in the cache folder.
    proc = FakeProc(stat=[stat_line(100, 100), stat_line(100, 100)])
    health(proc=proc).cpu(window=0, max_age=0)
    saved = json.loads(Path(mod._cpu_state_file()).read_text())
    assert saved["busy"] == 100 and saved["total"] == 200

    # The next one, a little later, averages since then: 300 busy of 400 ticks.
    proc = FakeProc(stat=[stat_line(400, 200)])
    result = only(health(proc=proc).cpu(window=0, max_age=60))
    assert result["value"] == 75.0

    # Older than max_age, or from before a reboot (counters smaller): a fresh window.
    proc = FakeProc(stat=[stat_line(400, 200), stat_line(410, 290)])
    assert only(health(proc=proc).cpu(window=0, max_age=0))["value"] == 10.0
    Path(mod._cpu_state_file()).write_text(
        json.dumps({"time": time.monotonic() - 1, "busy": 10**9, "total": 10**10})
    )
    proc = FakeProc(stat=[stat_line(10, 10), stat_line(20, 100)])
    assert only(health(proc=proc).cpu(window=0, max_age=60))["value"] == 10.0


@pytest.mark.parametrize(("window", "max_age"), [(-1, 0), ("1", 0), (0, 4000), (True, 0)])
def test_cpu_refuses_bad_windows(health, window, max_age):
    with pytest.raises(SaltInvocationError):
        health().cpu(window=window, max_age=max_age)


def test_cpu_refuses_a_strange_proc_stat(health):
    with pytest.raises(CommandExecutionError, match="all-CPU line"):
        health(proc=FakeProc(stat="intr 1 2 3\n")).cpu(window=0)


# Memory and disk ----------------------------------------------------------------------------


def test_memory_used_from_memavailable(health):
    result = only(health(proc=FakeProc(meminfo=MEMINFO.format(400000))).memory())
    assert result["value"] == 60.0 and result["ok"] is True and result["threshold"] == 90
    result = only(health(proc=FakeProc(meminfo=MEMINFO.format(50000))).memory())
    assert result["value"] == 95.0 and result["ok"] is False and "over 90%" in result["message"]


def test_memory_without_memavailable_and_without_memtotal(health):
    old_kernel = "MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 100 kB\nCached: 300 kB\n"
    assert only(health(proc=FakeProc(meminfo=old_kernel)).memory())["value"] == 50.0
    with pytest.raises(CommandExecutionError, match="MemTotal"):
        health(proc=FakeProc(meminfo="MemFree: 1 kB\n")).memory()


def test_disk_checks_each_disk_filesystem_once(health):
    report = health().disk()
    by_name = {check["name"]: check for check in report["checks"]}
    # Not proc, tmpfs, cgroup, nor the read-only mount; the bind mount of /dev/vdb once.
    assert list(by_name) == ["disk:/", "disk:/srv/data", "disk:/srv/with space"]
    assert by_name["disk:/"]["value"] == 50.0 and by_name["disk:/"]["ok"] is True
    assert by_name["disk:/srv/with space"]["value"] == 5.0
    assert by_name["disk:/srv/with space"]["ok"] is False
    assert "under 10%" in by_name["disk:/srv/with space"]["message"]
    assert report["failing"] == ["disk:/srv/with space"] and report["status"] == "failing"


def test_disk_threshold_extra_mounts_and_explicit_mounts(health):
    pillar = {"monitoring": {"thresholds": {"disk_free_percent": 40}, "disk": {"mounts": ["/run"]}}}
    table = {
        "/": (1, 1000, 500),
        "/srv/data": (2, 1000, 300),
        "/srv/bound": (2, 1000, 300),
        "/srv/with space": (3, 1000, 50),
        "/run": (4, 100, 99),
    }
    report = health(pillar=pillar, statvfs=table).disk()
    assert report["failing"] == ["disk:/srv/data", "disk:/srv/with space"]
    assert "disk:/run" in [check["name"] for check in report["checks"]]

    report = health(statvfs=table).disk(mounts="/srv/data,/gone")
    data, gone = report["checks"]
    assert data["ok"] is True and gone["ok"] is False and "cannot stat /gone" in gone["message"]


@pytest.mark.parametrize("mounts", ["", [], ["relative"], [3], 42], ids=repr)
def test_disk_refuses_bad_mounts(health, mounts):
    with pytest.raises(SaltInvocationError):
        health().disk(mounts=mounts)


@pytest.mark.parametrize(
    "thresholds",
    [{"memory_percent": 150}, {"disk_free_percent": "ten"}, {"cpu_percent": True}, ["cpu"]],
    ids=repr,
)
def test_bad_thresholds_in_pillar_are_refused(health, thresholds):
    with pytest.raises(SaltInvocationError, match="monitoring:thresholds"):
        health(pillar={"monitoring": {"thresholds": thresholds}}).memory()


# Services -----------------------------------------------------------------------------------


def test_services_of_every_role_in_one_systemctl_call(health):
    def answer(argv):
        return {"retcode": 3, "stdout": "active\nfailed\nactive\nactive\ninactive\n", "stderr": ""}

    commands = FakeCommands({"systemctl": answer})
    report = health(roles=["web", "app", "db", "cache"], commands=commands).services()
    assert commands.calls[0]["argv"] == [
        "systemctl",
        "is-active",
        "--",
        "nginx",
        "acoustic-lab.service",
        "postgresql",
        "pgbouncer",
        "redis-server",
    ]
    assert commands.calls[0]["python_shell"] is False
    assert report["failing"] == ["service:acoustic-lab.service", "service:redis-server"]
    failed = report["checks"][1]
    assert failed["value"] == "failed" and failed["threshold"] == "active"


def test_services_names_from_pillar_and_extra_services(health):
    pillar = {"app": {"systemd": {"unit": "shop.service"}}, "monitoring": {"services": ["ssh"]}}
    commands = FakeCommands({"systemctl": all_active})
    report = health(pillar=pillar, roles=["app"], commands=commands).services()
    assert [check["name"] for check in report["checks"]] == ["service:shop.service", "service:ssh"]
    assert report["ok"] is True


def test_services_when_systemctl_cannot_answer(health):
    no_systemd = {
        "retcode": 1,
        "stdout": "",
        "stderr": "System has not been booted with systemd as init system (PID 1).",
    }
    report = health(roles=["web"], commands=FakeCommands({"systemctl": no_systemd})).services()
    assert (
        report["ok"] is False and "not been booted with systemd" in report["checks"][0]["message"]
    )

    missing = CommandExecutionError("Unable to run command: [Errno 2] No such file or directory")
    report = health(roles=["web"], commands=FakeCommands({"systemctl": missing})).services()
    assert report["checks"][0]["message"] == "could not run systemctl: not installed"


def test_services_without_roles_checks_nothing(health):
    commands = FakeCommands({"systemctl": all_active})
    report = health(commands=commands).services()
    assert report == {**report, "ok": True, "checks": []} and commands.calls == []


@pytest.mark.parametrize("units", [["nginx; reboot"], "a b", [3], 42], ids=repr)
def test_services_refuses_bad_unit_names(health, units):
    with pytest.raises(SaltInvocationError, match="unit names"):
        health().services(units=units)


# HTTP ---------------------------------------------------------------------------------------


class HealthHandler(http.server.BaseHTTPRequestHandler):
    status = 200
    seen_hosts = []

    def do_GET(self):  # noqa: N802 - the name http.server calls
        HealthHandler.seen_hosts.append(self.headers["Host"])
        body = json.dumps({"status": "fail", "checks": {"redis": {"ok": False}}}).encode()
        self.send_response(self.status if self.path == "/health" else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def http_server(certs):
    """Serve /health on 127.0.0.1 over HTTP, or over HTTPS with a test CA's certificate."""
    servers = []

    def start(status=200, tls=False):
        handler = type("Handler", (HealthHandler,), {"status": status})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        if tls:
            import ssl

            certs.leaf("site", 60, names=("app.example.test",))
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(certs.folder / "site-chain.pem", certs.folder / "site.key")
            server.socket = context.wrap_socket(server.socket, server_side=True)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
        thread.daemon = True
        thread.start()
        servers.append((server, thread))
        return server.server_address[1]

    yield start
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_http_ok_and_failing_with_the_body(health, http_server):
    good = only(health().http(url=f"http://127.0.0.1:{http_server()}/health"))
    assert good["ok"] is True and good["value"] == 200 and good["unit"] == "status"

    bad = only(health().http(url=f"http://127.0.0.1:{http_server(status=503)}/health"))
    assert bad["ok"] is False and bad["value"] == 503
    assert bad["message"].startswith("503 Service Unavailable") and '"redis"' in bad["message"]


def test_https_is_verified_for_the_sites_name_through_a_pinned_address(health, http_server, certs):
    port = http_server(tls=True)
    url = f"https://app.example.test:{port}/health"
    HealthHandler.seen_hosts.clear()

    good = only(health().http(url=url, address="127.0.0.1", cafile=str(certs.ca_path)))
    assert good["ok"] is True and good["value"] == 200
    assert HealthHandler.seen_hosts == [f"app.example.test:{port}"]

    untrusted = only(health().http(url=url, address="127.0.0.1"))
    assert untrusted["ok"] is False
    assert untrusted["message"].startswith("TLS verification failed")

    wrong_name = f"https://other.example.test:{port}/health"
    mismatch = only(health().http(url=wrong_name, address="127.0.0.1", cafile=str(certs.ca_path)))
    assert mismatch["ok"] is False and "mismatch" in mismatch["message"]

    # The CA file may come from pillar.
    pillar = {"monitoring": {"http": {"cafile": str(certs.ca_path)}}}
    assert only(health(pillar=pillar).http(url=url, address="127.0.0.1"))["ok"] is True


def test_http_targets_come_from_the_roles(health, http_server, certs):
    https_port = http_server(tls=True)
    app_port = http_server(status=503)
    pillar = {
        "nginx": {"site": {"server_names": ["app.example.test"], "tls_port": https_port}},
        "app": {"gunicorn": {"port": app_port}},
        "monitoring": {"http": {"cafile": str(certs.ca_path)}},
    }
    report = health(pillar=pillar, roles=["web", "app"]).http()
    assert [check["name"] for check in report["checks"]] == [
        f"http:https://app.example.test:{https_port}/health",
        f"http:http://127.0.0.1:{app_port}/health",
    ]
    assert [check["ok"] for check in report["checks"]] == [True, False]
    assert health(roles=["db"]).http()["checks"] == []


def test_http_gives_up_at_the_timeout(health):
    import socket

    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never answers
        port = silent.getsockname()[1]
        started = time.monotonic()
        result = only(health().http(url=f"http://127.0.0.1:{port}/health", timeout=0.3))
    assert time.monotonic() - started < 2
    assert result["ok"] is False and "timed out" in result["message"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ({"url": "ftp://host/health"}, "url must be"),
        ({"url": "health"}, "url must be"),
        ({"url": 42}, "url must be"),
        ({"url": "http://h/", "timeout": 0}, "timeout must be"),
        ({"url": "http://h/", "timeout": 1000}, "timeout must be"),
        ({"url": "http://h/", "expect": "200"}, "expect must be"),
        ({"url": "http://h/", "cafile": "ca.pem"}, "cafile must be"),
        ({"address": "127.0.0.1"}, "address needs a url"),
    ],
)
def test_http_refuses_bad_arguments(health, args, words):
    with pytest.raises(SaltInvocationError, match=words):
        health().http(**args)


# PostgreSQL and Redis: secrets in the environment only --------------------------------------


def assert_secret_nowhere(secret, commands, report, caplog):
    for call in commands.calls:
        assert secret not in " ".join(call["argv"])
    assert secret not in json.dumps(report)
    assert secret not in caplog.text


def test_postgres_and_pgbouncer(health, caplog):
    caplog.set_level(logging.DEBUG)
    commands = FakeCommands()
    pillar = {"postgres": {"app": {"password": DB_PASSWORD}, "port": 5433}}
    report = health(pillar=pillar, commands=commands).postgres()

    server, bouncer = commands.calls
    assert server["argv"][:5] == ["runuser", "-u", "postgres", "--", "psql"]
    assert "host=/var/run/postgresql port=5433 dbname=postgres" in server["argv"][-1]
    assert server["env"] == {}
    assert "host=127.0.0.1 port=6432 dbname=acoustic user=acoustic" in bouncer["argv"][-1]
    assert bouncer["env"] == {"PGPASSWORD": DB_PASSWORD}
    assert [check["name"] for check in report["checks"]] == ["postgres", "pgbouncer"]
    assert report["ok"] is True and report["checks"][0]["unit"] == "ms"
    assert isinstance(report["checks"][0]["value"], float)
    assert_secret_nowhere(DB_PASSWORD, commands, report, caplog)


def test_postgres_down_and_a_password_echoed_in_an_error(health, caplog):
    down = {"retcode": 2, "stdout": "", "stderr": "psql: error: connection to server failed"}
    echo = {"retcode": 2, "stdout": "", "stderr": f"FATAL: password {DB_PASSWORD} refused"}
    commands = FakeCommands({"runuser": down, "psql": echo})
    pillar = {"postgres": {"app": {"password": DB_PASSWORD}}}
    report = health(pillar=pillar, commands=commands).postgres()
    assert report["failing"] == ["postgres", "pgbouncer"]
    assert "connection to server failed" in report["checks"][0]["message"]
    assert "<hidden>" in report["checks"][1]["message"]
    assert_secret_nowhere(DB_PASSWORD, commands, report, caplog)


def test_pgbouncer_without_a_password_in_pillar(health):
    commands = FakeCommands()
    report = health(commands=commands).postgres()
    assert report["failing"] == ["pgbouncer"] and len(commands.calls) == 1
    assert "no postgres:app:password" in report["checks"][1]["message"]


def test_redis_ping_with_the_password_in_the_environment(health, caplog):
    caplog.set_level(logging.DEBUG)
    commands = FakeCommands()
    report = health(pillar={"redis": {"password": REDIS_PASSWORD}}, commands=commands).redis()
    (call,) = commands.calls
    assert call["argv"] == ["redis-cli", "-h", "127.0.0.1", "-p", "6379", "PING"]
    assert call["env"] == {"REDISCLI_AUTH": REDIS_PASSWORD}
    assert only(report)["ok"] is True and only(report)["message"].startswith("answered in")
    assert_secret_nowhere(REDIS_PASSWORD, commands, report, caplog)


def test_redis_failures(health, caplog):
    noauth = {"retcode": 0, "stdout": "NOAUTH Authentication required.\n", "stderr": ""}
    result = only(health(commands=FakeCommands({"redis-cli": noauth})).redis())
    assert result["ok"] is False and "NOAUTH" in result["message"] and result["value"] is None

    missing = CommandExecutionError("Unable to run command: [Errno 2] No such file or directory")
    pillar = {"redis": {"password": REDIS_PASSWORD}}
    commands = FakeCommands({"redis-cli": missing})
    report = health(pillar=pillar, commands=commands).redis()
    assert only(report)["message"] == "no answer: could not run redis-cli: not installed"
    assert_secret_nowhere(REDIS_PASSWORD, commands, report, caplog)


@pytest.mark.parametrize("timeout", [0, -1, "5", None, True])
def test_redis_and_postgres_refuse_bad_timeouts(health, timeout):
    with pytest.raises(SaltInvocationError, match="timeout"):
        health().redis(timeout=timeout)
    with pytest.raises(SaltInvocationError, match="timeout"):
        health().postgres(timeout=timeout)


# run ----------------------------------------------------------------------------------------


def test_run_picks_the_checks_of_the_roles(health, caplog):
    commands = FakeCommands({"systemctl": all_active})
    pillar = {"redis": {"password": REDIS_PASSWORD}, "postgres": {"app": {"password": DB_PASSWORD}}}
    report = health(pillar=pillar, roles=["db", "cache"], commands=commands).run()

    names = [check["name"] for check in report["checks"]]
    assert names == [
        "cpu",
        "memory",
        "disk:/",
        "disk:/srv/data",
        "disk:/srv/with space",
        "service:postgresql",
        "service:pgbouncer",
        "service:redis-server",
        "postgres",
        "pgbouncer",
        "redis",
    ]
    assert all(set(check) == RESULT_KEYS for check in report["checks"])
    assert report["failing"] == ["disk:/srv/with space"] and report["status"] == "failing"
    assert report["roles"] == ["db", "cache"]
    assert 0.5 <= report["seconds"] < 5
    json.dumps(report)
    for secret in (REDIS_PASSWORD, DB_PASSWORD):
        assert_secret_nowhere(secret, commands, report, caplog)


def test_run_without_roles_and_with_chosen_checks(health):
    report = health().run()
    assert [check["name"].split(":")[0] for check in report["checks"]] == [
        "cpu",
        "memory",
        "disk",
        "disk",
        "disk",
    ]
    chosen = health().run(checks="memory, services")
    assert [check["name"] for check in chosen["checks"]] == ["memory"]
    assert chosen["seconds"] < 0.5  # no CPU window when cpu is not asked for


@pytest.mark.parametrize("checks", ["memroy", ["cpu", "ping"], [], 3], ids=repr)
def test_run_refuses_unknown_checks(health, checks):
    with pytest.raises(SaltInvocationError):
        health().run(checks=checks)


def test_module_needs_proc(monkeypatch, tmp_path):
    monkeypatch.setattr(mod, "PROC", str(tmp_path))
    loaded, reason = mod.__virtual__()
    assert loaded is False and "/proc" in reason


def test_formula_defaults_match_the_formulas():
    for key, value in mod.FORMULA_DEFAULTS.items():
        formula, *path = key.split(":")
        node = yaml.safe_load((REPO / "salt" / formula / "defaults.yaml").read_text())[formula]
        for part in path:
            node = node[part]
        assert node == value, key


def test_reads_this_machines_proc(salt_dunders):
    """The real /proc parses."""
    salt_dunders(mod, grains={"virtual": "physical"})
    sample = mod._cpu_sample()
    assert sample["total"] > sample["busy"] >= 0
    assert "MemTotal" in mod._read("meminfo")
    assert os.statvfs("/").f_blocks > 0


# the state ----------------------------------------------------------------------------------


def report_of(*failing):
    checks = [{"name": name, "ok": False, "message": f"{name} is down"} for name in failing] + [
        {"name": "memory", "ok": True, "message": "fine"}
    ]
    return {"ok": not failing, "failing": list(failing), "checks": checks}


@pytest.fixture
def healthy_state(salt_dunders):
    def give(reports, test=False):
        calls = []

        def fake_run(checks=None):
            calls.append(checks)
            return reports.pop(0) if len(reports) > 1 else reports[0]

        salt_dunders(state, opts={"test": test}, salt={"wsp_health.run": fake_run})
        return state, calls

    return give


def test_healthy_at_once(healthy_state):
    st, calls = healthy_state([report_of()])
    ret = st.healthy("stack", checks=["services"])
    assert ret["result"] is True and ret["changes"] == {} and calls == [["services"]]
    assert ret["comment"] == "All 1 health checks pass (the checks services)"


def test_healthy_after_waiting(healthy_state):
    st, calls = healthy_state([report_of("redis"), report_of("redis"), report_of()])
    ret = st.healthy("stack", deadline=5, interval=0.05)
    assert ret["result"] is True and len(calls) == 3
    assert "after" in ret["comment"] and "3 rounds" in ret["comment"]


def test_healthy_fails_at_the_deadline_naming_what_still_fails(healthy_state):
    st, calls = healthy_state([report_of("service:nginx", "http:https://x/health")])
    started = time.monotonic()
    ret = st.healthy("stack", deadline=0.3, interval=0.1)
    assert 0.2 <= time.monotonic() - started < 1.5
    assert ret["result"] is False and ret["changes"] == {}
    assert "service:nginx (service:nginx is down)" in ret["comment"]
    assert "http:https://x/health" in ret["comment"] and "memory" not in ret["comment"]
    assert len(calls) >= 2


def test_healthy_in_test_mode_does_not_wait(healthy_state):
    st, calls = healthy_state([report_of("redis")], test=True)
    started = time.monotonic()
    ret = st.healthy("stack", deadline=60)
    assert time.monotonic() - started < 1 and len(calls) == 1
    assert ret["result"] is None and ret["changes"] == {}
    assert ret["comment"].startswith("Would wait up to 60 s for every check of this host's roles")
    assert "failing now: redis (redis is down)" in ret["comment"]

    st, _ = healthy_state([report_of()], test=True)
    ret = st.healthy("stack", checks="http")
    assert ret["result"] is None and ret["comment"].endswith(
        "the checks http to pass; they pass now"
    )


@pytest.mark.parametrize(("deadline", "interval"), [(-1, 2), (60, 0), ("60", 2), (60, None)])
def test_healthy_never_raises_on_bad_arguments(healthy_state, deadline, interval):
    st, calls = healthy_state([report_of()])
    ret = st.healthy("stack", deadline=deadline, interval=interval)
    assert ret["result"] is False and "deadline must be" in ret["comment"] and calls == []


def test_healthy_reports_a_check_that_cannot_run(salt_dunders):
    def broken(checks=None):
        raise SaltInvocationError("unknown checks ['ping']")

    salt_dunders(state, salt={"wsp_health.run": broken})
    ret = state.healthy("stack", checks=["ping"])
    assert ret["result"] is False and "unknown checks" in ret["comment"]


def test_in_a_container_cpu_is_the_containers_own_cgroup_time(salt_dunders, monkeypatch):
    """Inside a container /proc/stat is the machine's: the cgroup's usage_usec is used."""
    salt_dunders(mod, grains={"virtual": "systemd-nspawn"})
    usage = {"usec": 1_000_000}
    monkeypatch.setattr(
        mod, "_read_cgroup", lambda path: f"usage_usec {usage['usec']}\nuser_usec 1\n"
    )
    monkeypatch.setattr(mod.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(mod, "_read", lambda name: pytest.fail("read /proc/stat in a container"))
    clock = {"now": 100.0}
    monkeypatch.setattr(mod.time, "monotonic", lambda: clock["now"])
    monkeypatch.setattr(mod.time, "sleep", lambda seconds: clock.update(now=clock["now"] + seconds))
    first = mod._cpu_sample()
    # One CPU-second used over one wall second of two CPUs: 50% of the host's share.
    clock["now"] += 1.0
    usage["usec"] += 1_000_000
    result = mod._cpu_end(first, 1.0, 80, clock["now"])
    assert result["value"] == 50.0 and result["ok"]


def test_outside_a_container_the_cgroup_is_not_read(salt_dunders, monkeypatch):
    salt_dunders(mod, grains={"virtual": "kvm"})
    monkeypatch.setattr(mod, "_read_cgroup", lambda path: pytest.fail("read a cgroup on a VM"))
    assert mod._container_cpu_sample() is None
