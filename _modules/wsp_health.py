"""
Health checks of a host, chosen by its ``roles`` grain, with one structured result per check.

Every host gets ``cpu``, ``memory``, ``disk`` and ``services``; the roles add the rest:

========  =============================================================================
role      checks
========  =============================================================================
web       ``http``: the site's ``/health`` over HTTPS on 127.0.0.1, the certificate
          verified for the site's first server name
app       ``http``: the app's own ``http://127.0.0.1:<port>/health``
db        ``postgres``: a query as the ``postgres`` user over the local socket, and a login
          through PgBouncer as the app's role
cache     ``redis``: PING with the password from pillar
========  =============================================================================

``services`` asks systemd about every service the host's roles manage (nginx, the app's unit,
postgresql and pgbouncer, redis-server) and any listed in ``monitoring:services``.

Each result is a mapping with ``name``, ``ok``, ``value``, ``threshold``, ``unit``, ``message``
and ``seconds`` (the time the check took). Every public function returns a report: ``ok``,
``status`` (``ok`` or ``failing``), ``failing`` (the names of the failed results), ``checks``
(the results) and ``seconds`` (the whole report's latency).

Thresholds come from the configuration or pillar ``monitoring:thresholds``:

``cpu_percent``
    Busy share of all CPUs over the sampling window (see :py:func:`cpu`). Defaults to 80.
``memory_percent``
    Share of memory in use, from ``MemAvailable``. Defaults to 90.
``disk_free_percent``
    Least free share of each disk-backed mount. Defaults to 10.

Other settings are read where the formulas keep them (``nginx:site:server_names``,
``app:gunicorn:port``, ``postgres:port``, ``redis:port``, ...), with the formulas' defaults.
Also read: ``monitoring:http:cafile`` (the CAs the ``http`` check trusts, else the system's),
``monitoring:disk:mounts`` (mounts checked besides the disk-backed ones found) and
``monitoring:services``. Passwords (``postgres:app:password``, ``redis:password``) go to the
client programs in their environment only, never on a command line, in a log or in a result.

:depends: Linux ``/proc``; ``systemctl``; ``psql`` and ``runuser`` on db hosts; ``redis-cli`` on
    cache hosts. Nothing outside Salt's own Python dependencies, so the module also runs under
    salt-ssh, whose thin bundle has no psutil.

CLI Example:

.. code-block:: bash

    salt '*' wsp_health.run
    salt -G 'roles:db' wsp_health.postgres
    salt '*' wsp_health.run checks=memory,disk
"""

import json
import logging
import os
import re
import socket
import ssl
import time
from http import client as http_client
from urllib.parse import urlsplit

from salt.exceptions import CommandExecutionError, SaltInvocationError

log = logging.getLogger(__name__)

__virtualname__ = "wsp_health"

CHECKS = ("cpu", "memory", "disk", "services", "http", "postgres", "redis")
EVERY_HOST = ("cpu", "memory", "disk", "services")
BY_ROLE = {"web": ("http",), "app": ("http",), "db": ("postgres",), "cache": ("redis",)}

DEFAULT_THRESHOLDS = {"cpu_percent": 80, "memory_percent": 90, "disk_free_percent": 10}

# The formulas' own defaults (salt/<formula>/defaults.yaml) for the settings read here; a unit
# test keeps the two equal.
FORMULA_DEFAULTS = {
    "nginx:service": "nginx",
    "nginx:site:server_names": ["localhost"],
    "nginx:site:tls_port": 443,
    "app:systemd:unit": "acoustic-lab.service",
    "app:gunicorn:port": 8000,
    "postgres:service": "postgresql",
    "postgres:port": 5432,
    "postgres:app:user": "acoustic",
    "postgres:app:database": "acoustic",
    "postgres:pgbouncer:service": "pgbouncer",
    "postgres:pgbouncer:port": 6432,
    "redis:service": "redis-server",
    "redis:port": 6379,
}

# Debian's PostgreSQL socket folder (PgBouncer's too, as the postgres formula configures it).
PG_SOCKET_DIR = "/var/run/postgresql"

# Filesystems that store data on a disk; others (proc, tmpfs, cgroup, squashfs...) are not
# checked unless listed in monitoring:disk:mounts. The root is always checked: in a container
# it is an overlay.
DISK_FSTYPES = frozenset(
    "ext2 ext3 ext4 xfs btrfs zfs f2fs jfs reiserfs vfat exfat ntfs3 nilfs2 bcachefs".split()
)

PROC = "/proc"

# The CPU check's shortest window, and the oldest previous sample it starts from (seconds).
CPU_WINDOW = 0.5
CPU_MAX_AGE = 300


def __virtual__():
    if not os.path.exists(os.path.join(PROC, "stat")):
        return (False, "wsp_health reads Linux /proc, which this system does not have")
    return __virtualname__


def _read(name):
    """Return the text of a file under /proc (the one place tests replace)."""
    with open(os.path.join(PROC, name), encoding="utf-8") as handle:
        return handle.read()


def _statvfs(path):
    return os.statvfs(path)


def _setting(key):
    return __salt__["config.get"](key, FORMULA_DEFAULTS[key])


def _roles():
    roles = __grains__.get("roles") or []
    return [roles] if isinstance(roles, str) else list(roles)


def _thresholds():
    configured = __salt__["config.get"]("monitoring:thresholds", {}) or {}
    if not isinstance(configured, dict):
        raise SaltInvocationError("monitoring:thresholds must be a mapping of names to percentages")
    thresholds = dict(DEFAULT_THRESHOLDS)
    for key, value in configured.items():
        if key not in DEFAULT_THRESHOLDS:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
            raise SaltInvocationError(
                f"monitoring:thresholds:{key} must be a percentage from 0 to 100, not {value!r}"
            )
        thresholds[key] = value
    return thresholds


def _timeout(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 300:
        raise SaltInvocationError(f"timeout must be seconds, over 0 and at most 300: {value!r}")
    return value


def _result(name, ok, value, threshold, unit, message, started):
    return {
        "name": name,
        "ok": bool(ok),
        "value": value,
        "threshold": threshold,
        "unit": unit,
        "message": message,
        "seconds": round(time.monotonic() - started, 4),
    }


def _report(results, started):
    failing = [result["name"] for result in results if not result["ok"]]
    for result in results:
        if not result["ok"]:
            log.warning("health check %s failed: %s", result["name"], result["message"])
    return {
        "ok": not failing,
        "status": "failing" if failing else "ok",
        "failing": failing,
        "checks": results,
        "seconds": round(time.monotonic() - started, 4),
    }


def _redact(text, secrets):
    for secret in secrets:
        if secret:
            text = text.replace(secret, "<hidden>")
    return text


def _first_line(ret, secrets=()):
    text = (ret.get("stdout") or "").strip() or (ret.get("stderr") or "").strip()
    return _redact(text.splitlines()[0] if text else "no output", secrets)[:200]


def _command(argv, env=None, timeout=10, secrets=()):
    """Run a program through cmd.run_all; return (result, seconds). Never raises."""
    started = time.monotonic()
    try:
        ret = __salt__["cmd.run_all"](
            argv,
            env=env or {},
            python_shell=False,
            ignore_retcode=True,
            timeout=timeout,
            cwd="/",
        )
    except CommandExecutionError as err:
        reason = "not installed" if "No such file" in str(err) else _redact(str(err), secrets)
        ret = {"retcode": 127, "stdout": "", "stderr": f"could not run {argv[0]}: {reason}"}
    return ret, time.monotonic() - started


# CPU ---------------------------------------------------------------------------------------
#
# In a container /proc/stat is the machine's: there the CPU time of the container's own cgroup
# (cpu.stat's usage_usec) is measured against the wall time of every CPU instead.
# Limitation: /proc/meminfo is the machine's too, and the memory check still reads it.

CONTAINER_VIRTUAL = ("systemd-nspawn", "container", "LXC", "lxc", "docker", "podman", "openvzve")
CGROUP_CPU_STAT = ("/sys/fs/cgroup/cpu.stat", "/sys/fs/cgroup/unified/cpu.stat")


def _read_cgroup(path):
    """Return the text of a cgroup file (the second place tests replace)."""
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def _container_cpu_sample():
    """The container's own CPU time as a sample, or None outside a container."""
    if __grains__.get("virtual") not in CONTAINER_VIRTUAL:
        return None
    for path in CGROUP_CPU_STAT:
        try:
            fields = dict(line.split() for line in _read_cgroup(path).splitlines() if line)
        except (OSError, ValueError):
            continue
        if "usage_usec" in fields:
            now = time.monotonic()
            # Microseconds busy, out of microseconds of wall time on every CPU.
            total = int(now * 1_000_000) * (os.cpu_count() or 1)
            return {"time": now, "busy": int(fields["usage_usec"]), "total": total}
    return None


def _cpu_sample():
    own = _container_cpu_sample()
    if own is not None:
        return own
    line = _read("stat").splitlines()[0].split()
    if not line or line[0] != "cpu":
        raise CommandExecutionError("/proc/stat does not start with the all-CPU line")
    # user nice system idle iowait irq softirq steal; guest time is already in user and nice.
    ticks = [int(value) for value in line[1:9]]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)
    return {"time": time.monotonic(), "busy": sum(ticks) - idle, "total": sum(ticks)}


def _cpu_state_file():
    cachedir = __opts__.get("cachedir") or "/var/cache/salt/minion"
    return os.path.join(cachedir, "wsp_health", "cpu-sample.json")


def _cpu_begin(max_age):
    """The sample to measure from: the last check's when recent enough, else a new one."""
    fresh = _cpu_sample()
    try:
        with open(_cpu_state_file(), encoding="utf-8") as handle:
            saved = json.load(handle)
        age = fresh["time"] - saved["time"]
        # The monotonic clock and the counters restart at boot: a saved sample from the
        # future or with larger counters is from before a reboot.
        counters_grew = saved["total"] < fresh["total"] and saved["busy"] <= fresh["busy"]
        if 0 < age <= max_age and counters_grew:
            return saved
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return fresh


def _cpu_end(first, window, threshold, started):
    wait = window - (time.monotonic() - first["time"])
    if wait > 0:
        time.sleep(wait)
    last = _cpu_sample()
    try:
        path = _cpu_state_file()
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(last, handle)
    except OSError as err:
        log.debug("cannot keep the CPU sample for the next check: %s", err)

    ticks = last["total"] - first["total"]
    percent = round(100 * (last["busy"] - first["busy"]) / ticks, 1) if ticks > 0 else 0.0
    span = last["time"] - first["time"]
    ok = percent <= threshold
    message = f"CPU {percent}% busy over {span:.1f} s" + ("" if ok else f", over {threshold}%")
    return _result("cpu", ok, percent, threshold, "%", message, started)


def _window(window, max_age):
    for what, value in (("window", window), ("max_age", max_age)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 3600:
            raise SaltInvocationError(f"{what} must be seconds from 0 to 3600, not {value!r}")


def cpu(window=CPU_WINDOW, max_age=CPU_MAX_AGE):
    """
    Check the busy share of all CPUs, averaged over a window, against ``cpu_percent``.

    The window starts at the previous check's sample when that was taken at most ``max_age``
    seconds ago, so a check scheduled every minute judges the whole minute: a sustained load,
    not a spike. Without a recent sample the check samples ``/proc/stat`` over ``window``
    seconds. Each check keeps its sample in the minion's cache folder for the next one.

    window
        Shortest span to average over, in seconds. Defaults to 0.5.

    max_age
        Oldest previous sample to start from, in seconds; 0 never uses one. Defaults to 300.

    CLI Example:

    .. code-block:: bash

        salt '*' wsp_health.cpu
        salt '*' wsp_health.cpu window=5 max_age=0
    """
    _window(window, max_age)
    started = time.monotonic()
    threshold = _thresholds()["cpu_percent"]
    first = _cpu_begin(max_age)
    return _report([_cpu_end(first, window, threshold, started)], started)


# Memory and disk ---------------------------------------------------------------------------


def _memory_check():
    started = time.monotonic()
    threshold = _thresholds()["memory_percent"]
    fields = {}
    for line in _read("meminfo").splitlines():
        key, _, rest = line.partition(":")
        if rest.split():
            fields[key] = int(rest.split()[0])
    total = fields.get("MemTotal")
    if not total:
        raise CommandExecutionError("/proc/meminfo has no MemTotal")
    available = fields.get("MemAvailable")
    if available is None:
        # Kernels before 3.14 lack MemAvailable; free plus caches over-counts a little.
        available = sum(fields.get(key, 0) for key in ("MemFree", "Buffers", "Cached"))
    percent = round(100 * (total - available) / total, 1)
    ok = percent <= threshold
    message = f"memory {percent}% used of {total // 1024} MiB" + (
        "" if ok else f", over {threshold}%"
    )
    return _result("memory", ok, percent, threshold, "%", message, started)


def memory():
    """
    Check the share of memory in use (``MemTotal - MemAvailable``) against ``memory_percent``.

    CLI Example:

    .. code-block:: bash

        salt '*' wsp_health.memory
    """
    started = time.monotonic()
    return _report([_memory_check()], started)


def _unescape(field):
    # /proc/self/mounts writes space, tab, newline and backslash in octal (\040...).
    return re.sub(r"\\([0-7]{3})", lambda match: chr(int(match.group(1), 8)), field)


def _disk_mounts():
    """Mount points of disk-backed, writable filesystems, one per filesystem."""
    found = []
    for line in _read("self/mounts").splitlines():
        fields = line.split()
        if len(fields) < 4:
            continue
        point, fstype, options = _unescape(fields[1]), fields[2], fields[3].split(",")
        if (fstype in DISK_FSTYPES or point == "/") and "ro" not in options:
            found.append(point)
    extra = __salt__["config.get"]("monitoring:disk:mounts", []) or []
    return found + [point for point in extra if point not in found]


def _disk_check(point, threshold, seen):
    started = time.monotonic()
    name = f"disk:{point}"
    try:
        stats = _statvfs(point)
    except OSError as err:
        why = f"cannot stat {point}: {err.strerror or err}"
        return _result(name, False, None, threshold, "% free", why, started)
    # A filesystem mounted at several points (bind mounts) has one fsid: check it once.
    key = (stats.f_fsid, stats.f_blocks)
    if stats.f_fsid and key in seen:
        return None
    seen.add(key)
    if not stats.f_blocks:
        return _result(name, False, None, threshold, "% free", f"{point} reports no size", started)
    # Limitation: blocks only; a filesystem that runs out of inodes first still passes.
    percent = round(100 * stats.f_bavail / stats.f_blocks, 1)
    free_mib = stats.f_bavail * stats.f_frsize // 2**20
    ok = percent >= threshold
    message = f"{point} {percent}% free ({free_mib} MiB)" + ("" if ok else f", under {threshold}%")
    return _result(name, ok, percent, threshold, "% free", message, started)


def _mount_list(mounts):
    if isinstance(mounts, str):
        mounts = [part.strip() for part in mounts.split(",") if part.strip()]
    if not isinstance(mounts, (list, tuple)) or not mounts:
        raise SaltInvocationError(f"mounts must be a list of mount points, not {mounts!r}")
    for point in mounts:
        if not isinstance(point, str) or not point.startswith("/"):
            raise SaltInvocationError(f"a mount point must be an absolute path, not {point!r}")
    return list(mounts)


def _disk_checks(mounts=None):
    threshold = _thresholds()["disk_free_percent"]
    points = _disk_mounts() if mounts is None else _mount_list(mounts)
    seen = set()
    results = (_disk_check(point, threshold, seen) for point in points)
    return [result for result in results if result is not None]


def disk(mounts=None):
    """
    Check the free share of each disk-backed filesystem against ``disk_free_percent``.

    The free share counts the blocks an unprivileged user may still write (``df``'s
    "Avail"), so the root-reserved blocks count as used. A filesystem mounted at several
    points is checked once; read-only ones are not checked.

    mounts
        Mount points to check (a list, or a comma-separated string). Defaults to every
        writable mount of a disk filesystem (ext4, xfs, btrfs...), the root, and any in
        ``monitoring:disk:mounts``.

    CLI Example:

    .. code-block:: bash

        salt '*' wsp_health.disk
        salt '*' wsp_health.disk mounts=/,/var/lib/postgresql
    """
    started = time.monotonic()
    return _report(_disk_checks(mounts), started)


# Services ----------------------------------------------------------------------------------


def _managed_services(roles):
    units = []
    if "web" in roles:
        units.append(_setting("nginx:service"))
    if "app" in roles:
        units.append(_setting("app:systemd:unit"))
    if "db" in roles:
        # Debian's postgresql unit is an umbrella that stays active when a cluster dies; the
        # postgres check's query covers the cluster itself.
        units += [_setting("postgres:service"), _setting("postgres:pgbouncer:service")]
    if "cache" in roles:
        units.append(_setting("redis:service"))
    extra = __salt__["config.get"]("monitoring:services", []) or []
    return list(dict.fromkeys(units + list(extra)))


def _service_checks(units):
    started = time.monotonic()
    if not units:
        return []
    ret, _ = _command(["systemctl", "is-active", "--", *units])
    states = (ret.get("stdout") or "").split()
    results = []
    if len(states) != len(units):
        # systemctl itself failed (not booted with systemd, not installed): no unit is known.
        why = _first_line({"stdout": "", "stderr": ret.get("stderr") or ret.get("stdout")})
        for unit in units:
            results.append(_result(f"service:{unit}", False, None, "active", None, why, started))
        return results
    for unit, state in zip(units, states, strict=True):
        results.append(
            _result(f"service:{unit}", state == "active", state, "active", None, state, started)
        )
    return results


def services(units=None):
    """
    Check that every service the host's roles manage is active, with ``systemctl is-active``.

    units
        Unit names to check (a list, or a comma-separated string). Defaults to the services
        of the host's roles (nginx; the app's unit; postgresql and pgbouncer; redis-server)
        and those in ``monitoring:services``.

    CLI Example:

    .. code-block:: bash

        salt '*' wsp_health.services
        salt '*' wsp_health.services units=nginx,ssh
    """
    started = time.monotonic()
    if units is None:
        units = _managed_services(_roles())
    elif isinstance(units, str):
        units = [part.strip() for part in units.split(",") if part.strip()]
    if not isinstance(units, (list, tuple)) or not all(
        isinstance(unit, str) and re.fullmatch(r"[\w@.:-]+", unit) for unit in units
    ):
        raise SaltInvocationError(f"units must be a list of systemd unit names, not {units!r}")
    return _report(_service_checks(list(units)), started)


# HTTP --------------------------------------------------------------------------------------


class _PinnedHTTPSConnection(http_client.HTTPSConnection):
    """HTTPS to a fixed address, with the URL's host name for SNI, verification and Host."""

    def __init__(self, host, port, address, context, timeout):
        super().__init__(host, port, timeout=timeout, context=context)
        self._pinned_address = address
        self._tls_context = context

    def connect(self):
        sock = socket.create_connection((self._pinned_address, self.port), self.timeout)
        self.sock = self._tls_context.wrap_socket(sock, server_hostname=self.host)


def _http_targets(roles):
    targets = []
    if "web" in roles:
        names = _setting("nginx:site:server_names") or ["localhost"]
        port = _setting("nginx:site:tls_port")
        targets.append((f"https://{names[0]}:{port}/health", "127.0.0.1"))
    if "app" in roles:
        targets.append((f"http://127.0.0.1:{_setting('app:gunicorn:port')}/health", None))
    return targets


def _http_checks(targets, cafile=None, timeout=5, expect=200):
    cafile = cafile or __salt__["config.get"]("monitoring:http:cafile", None) or None
    if cafile is not None and (not isinstance(cafile, str) or not cafile.startswith("/")):
        raise SaltInvocationError(f"cafile must be an absolute path, not {cafile!r}")
    return [_http_check(url, address, cafile, timeout, expect) for url, address in targets]


def _http_check(url, address, cafile, timeout, expect):
    started = time.monotonic()
    name = f"http:{url}"
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        if parts.scheme == "https":
            context = ssl.create_default_context(cafile=cafile)
            connection = _PinnedHTTPSConnection(
                parts.hostname, parts.port or 443, address or parts.hostname, context, timeout
            )
        else:
            connection = http_client.HTTPConnection(
                address or parts.hostname, parts.port or 80, timeout=timeout
            )
        try:
            connection.request("GET", path, headers={"Host": parts.netloc})
            response = connection.getresponse()
            body = response.read(2048).decode("utf-8", "replace")
        finally:
            connection.close()
    except ssl.SSLCertVerificationError as err:
        why = f"TLS verification failed: {err.verify_message or err}"
        return _result(name, False, None, expect, "status", why, started)
    except (OSError, ssl.SSLError, http_client.HTTPException) as err:
        why = f"no answer: {type(err).__name__}: {err}"
        return _result(name, False, None, expect, "status", why, started)
    ok = response.status == expect
    message = f"{response.status} {response.reason} in {time.monotonic() - started:.3f} s"
    if not ok:
        message += f": {' '.join(body.split())[:200]}"
    return _result(name, ok, response.status, expect, "status", message, started)


def http(url=None, address=None, cafile=None, timeout=5, expect=200):
    """
    Check HTTP(S) endpoints: the answer must come within ``timeout`` with status ``expect``.

    HTTPS is always verified: the chain against ``cafile`` (or the system's CAs) and the
    certificate against the URL's host name. With ``address``, the connection goes to that
    address while the URL's host name is still used for SNI, verification and ``Host``.

    .. note::
        A site still on its self-signed bootstrap certificate, or on one from a private ACME
        CA, fails this check until ``monitoring:http:cafile`` names a file that trusts it.

    url
        The URL to fetch. Defaults to the host's role endpoints: on a web host the site's
        ``https://<first server name>:<tls port>/health`` through 127.0.0.1; on an app host
        ``http://127.0.0.1:<gunicorn port>/health``.

    address
        Address to connect to instead of resolving the URL's host. Defaults to none.

    cafile
        PEM file of the CAs to trust. Defaults to ``monitoring:http:cafile``, else the
        system's trust store.

    timeout
        Seconds to wait for the connection and the answer. Defaults to 5.

    expect
        The status code that counts as healthy. Defaults to 200.

    CLI Example:

    .. code-block:: bash

        salt -G 'roles:web' wsp_health.http
        salt '*' wsp_health.http url=https://app.example.test/health address=198.18.0.10
    """
    started = time.monotonic()
    timeout = _timeout(timeout)
    if isinstance(expect, bool) or not isinstance(expect, int) or not 100 <= expect <= 599:
        raise SaltInvocationError(f"expect must be an HTTP status code, not {expect!r}")
    if url is None:
        if address is not None:
            raise SaltInvocationError("address needs a url: the role endpoints set their own")
        targets = _http_targets(_roles())
    else:
        parts = urlsplit(url) if isinstance(url, str) else None
        if not parts or parts.scheme not in ("http", "https") or not parts.hostname:
            raise SaltInvocationError(f"url must be an http:// or https:// URL, not {url!r}")
        targets = [(url, address)]
    return _report(_http_checks(targets, cafile, timeout, expect), started)


# PostgreSQL and Redis ----------------------------------------------------------------------


def _latency_result(name, ret, seconds, expected_output, started, secrets=()):
    latency = round(seconds * 1000, 1)
    ok = ret.get("retcode") == 0 and (ret.get("stdout") or "").strip() == expected_output
    if ok:
        message = f"answered in {latency} ms"
    else:
        message = f"no answer: {_first_line(ret, secrets)}"
    return _result(name, ok, latency if ok else None, None, "ms", message, started)


def _postgres_checks(timeout=5):
    started = time.monotonic()
    wait = max(1, round(timeout))

    server = f"host={PG_SOCKET_DIR} port={_setting('postgres:port')} dbname=postgres"
    argv = ["runuser", "-u", "postgres", "--", "psql", "-XAtq", "-c", "SELECT 1"]
    ret, seconds = _command([*argv, f"{server} connect_timeout={wait}"], timeout=timeout + 2)
    results = [_latency_result("postgres", ret, seconds, "1", started)]

    bouncer_started = time.monotonic()
    password = __salt__["config.get"]("postgres:app:password", "") or ""
    bouncer = (
        f"host=127.0.0.1 port={_setting('postgres:pgbouncer:port')}"
        f" dbname={_setting('postgres:app:database')} user={_setting('postgres:app:user')}"
        f" connect_timeout={wait}"
    )
    if not password:
        results.append(
            _result(
                "pgbouncer",
                False,
                None,
                None,
                "ms",
                "no postgres:app:password in pillar: cannot log in through PgBouncer",
                bouncer_started,
            )
        )
    else:
        ret, seconds = _command(
            ["psql", "-XAtq", "-c", "SELECT 1", bouncer],
            env={"PGPASSWORD": password},
            timeout=timeout + 2,
            secrets=(password,),
        )
        results.append(
            _latency_result("pgbouncer", ret, seconds, "1", bouncer_started, (password,))
        )
    return results


def postgres(timeout=5):
    """
    Check PostgreSQL and PgBouncer: a query through each, with its latency in milliseconds.

    PostgreSQL is asked ``SELECT 1`` as the ``postgres`` user over the local socket (peer
    authentication, no password). Through PgBouncer the app's role logs in over TCP on
    127.0.0.1, as the app does, with its password from pillar ``postgres:app:password`` handed
    to ``psql`` in its environment. The latency includes starting ``psql``, so it is an upper
    bound of the server's own.

    timeout
        Seconds to wait for each connection and answer. Defaults to 5.

    CLI Example:

    .. code-block:: bash

        salt -G 'roles:db' wsp_health.postgres
    """
    started = time.monotonic()
    return _report(_postgres_checks(_timeout(timeout)), started)


def _redis_checks(timeout=5):
    started = time.monotonic()
    password = __salt__["config.get"]("redis:password", "") or ""
    env = {"REDISCLI_AUTH": password} if password else {}
    argv = ["redis-cli", "-h", "127.0.0.1", "-p", str(_setting("redis:port")), "PING"]
    ret, seconds = _command(argv, env=env, timeout=timeout, secrets=(password,))
    return [_latency_result("redis", ret, seconds, "PONG", started, (password,))]


def redis(timeout=5):
    """
    Check Redis: ``PING`` on 127.0.0.1 must answer ``PONG``; the value is the latency in ms.

    The password from pillar ``redis:password`` reaches ``redis-cli`` in its environment
    (``REDISCLI_AUTH``), never on its command line. The latency includes starting
    ``redis-cli``.

    timeout
        Seconds to wait for the answer. Defaults to 5.

    CLI Example:

    .. code-block:: bash

        salt -G 'roles:cache' wsp_health.redis
    """
    started = time.monotonic()
    return _report(_redis_checks(_timeout(timeout)), started)


# All checks --------------------------------------------------------------------------------


def _check_names(checks):
    if checks is None:
        roles = _roles()
        names = set(EVERY_HOST)
        for role in roles:
            names.update(BY_ROLE.get(role, ()))
        return [name for name in CHECKS if name in names]
    if isinstance(checks, str):
        checks = [part.strip() for part in checks.split(",") if part.strip()]
    if not isinstance(checks, (list, tuple)) or not checks:
        raise SaltInvocationError(f"checks must be a list of check names, not {checks!r}")
    unknown = [name for name in checks if name not in CHECKS]
    if unknown:
        raise SaltInvocationError(f"unknown checks {unknown}: expected any of {', '.join(CHECKS)}")
    return [name for name in CHECKS if name in checks]


def run(checks=None):
    """
    Run the host's health checks and return one report with every result.

    The CPU window runs while the other checks do, so the whole report takes about as long
    as its slowest check or the CPU window (0.5 s), whichever is longer.

    checks
        Names of the checks to run (a list, or a comma-separated string), from ``cpu``,
        ``memory``, ``disk``, ``services``, ``http``, ``postgres`` and ``redis``. Defaults to
        the checks of every host plus those of the host's roles.

    CLI Example:

    .. code-block:: bash

        salt '*' wsp_health.run
        salt '*' wsp_health.run checks='[services, postgres]'
    """
    started = time.monotonic()
    names = _check_names(checks)
    thresholds = _thresholds()

    cpu_first = _cpu_begin(CPU_MAX_AGE) if "cpu" in names else None
    results = []
    for name in names:
        if name == "memory":
            results.append(_memory_check())
        elif name == "disk":
            results.extend(_disk_checks())
        elif name == "services":
            results.extend(_service_checks(_managed_services(_roles())))
        elif name == "http":
            results.extend(_http_checks(_http_targets(_roles())))
        elif name == "postgres":
            results.extend(_postgres_checks())
        elif name == "redis":
            results.extend(_redis_checks())
    if cpu_first is not None:
        results.insert(0, _cpu_end(cpu_first, CPU_WINDOW, thresholds["cpu_percent"], started))

    report = _report(results, started)
    report["roles"] = _roles()
    log.debug("%s health checks in %.3f s: %s", len(results), report["seconds"], report["status"])
    return report
