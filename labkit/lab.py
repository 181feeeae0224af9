"""Bring a lab up and down: topology, image, network, master, hosts, minions.

``up`` first removes whatever an earlier run left (also a killed one), so it can always be run
again; on any failure it tears down what it made before it reports.
"""

import ipaddress
import json
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

import yaml

from labkit import acme, cgroups, gitserve, image, master, net, paths, webhook
from labkit.hosts import Host
from labkit.util import LabError, Phase, log, run

TOPOLOGIES = Path(__file__).resolve().parent / "topologies"
KNOWN_ROLES = {"web", "app", "db", "cache"}
ENVIRONMENTS = ("staging", "production")
REQUIRED_TOOLS = (
    "systemd-nspawn",
    "mmdebstrap",
    "tinyproxy",
    "nsenter",
    "openssl",
    "ssh-keygen",
    "ssh",
    "ip",
    "mount",
    "gpg",
    "age-keygen",
    "pebble",
    "git",
)


def topology_names():
    return sorted(p.stem for p in TOPOLOGIES.glob("*.yaml"))


def load_topology(name, suite=None, environment="staging"):
    """Read a topology by name (or path) and return its hosts, checked."""
    path = Path(name) if name.endswith(".yaml") else TOPOLOGIES / f"{name}.yaml"
    if not path.exists():
        raise LabError(f"unknown topology {name!r}: expected one of {', '.join(topology_names())}")
    data = yaml.safe_load(path.read_text()) or {}
    subnet = ipaddress.ip_network(paths.TOPOLOGY_SUBNET)
    hosts, seen = [], set()
    for host_name, spec in (data.get("hosts") or {}).items():
        address = str(spec.get("address", ""))
        try:
            # .1 is the gateway; .0 and .127 are the network and broadcast of the half.
            ok = ipaddress.ip_address(address) in subnet
            ok = ok and 2 <= int(address.rsplit(".", 1)[1]) <= 126
        except ValueError:
            ok = False
        if not ok or address in seen:
            raise LabError(
                f"{path.name}: host {host_name} has address {address!r}; expected a unique "
                f"host address in {paths.TOPOLOGY_SUBNET} other than 198.18.0.1"
            )
        seen.add(address)
        address = str(ipaddress.ip_address(address) + paths.ADDRESS_OFFSET)
        unknown = set(spec.get("roles") or []) - KNOWN_ROLES
        if unknown:
            raise LabError(
                f"{path.name}: host {host_name} has unknown roles {sorted(unknown)}; "
                f"expected some of {sorted(KNOWN_ROLES)}"
            )
        host = Host(
            host_name, address, spec.get("roles") or [], suite or spec.get("suite", "bookworm")
        )
        host.environment = spec.get("environment", environment)
        if host.environment not in ENVIRONMENTS:
            raise LabError(
                f"{path.name}: host {host_name} has environment {host.environment!r}; "
                f"expected one of {', '.join(ENVIRONMENTS)}"
            )
        hosts.append(host)
    if not hosts:
        raise LabError(f"{path.name}: no hosts")
    return hosts


def preflight():
    if os.geteuid() != 0:
        raise LabError("the lab needs root (it mounts, makes a bridge and boots hosts)")
    missing = [tool for tool in REQUIRED_TOOLS if shutil.which(tool) is None]
    if missing:
        raise LabError(f"missing tools: {', '.join(missing)}; run 'make deps'")


def minion_conf(host):
    conf = {
        "id": host.name,
        "master": paths.GATEWAY,
        "grains": {"roles": host.roles, "environment": host.environment},
        "log_file": "/var/log/salt/minion",
        "log_level_logfile": "info",
        # Reconnect quickly when the master restarts or a connection is dropped.
        "master_alive_interval": 10,
        "tcp_keepalive_idle": 30,
    }
    return "# Written by the lab for this host.\n" + yaml.safe_dump(conf, sort_keys=True)


def saved_hosts():
    try:
        state = json.loads(paths.STATE_FILE.read_text())
    except (OSError, ValueError):
        return [], None
    hosts = []
    for spec in state.get("hosts", []):
        host = Host(spec["name"], spec["address"], spec["roles"], spec["suite"])
        host.environment = spec.get("environment", "staging")
        hosts.append(host)
    return hosts, state.get("topology")


def up(topology="cluster", suite=None, environment="staging"):
    preflight()
    hosts = load_topology(topology, suite, environment)
    started = time.monotonic()
    with Phase("clean up leftovers"):
        teardown()
    try:
        net.check_range_free()
        with Phase("image"):
            rootfs = {s: image.ensure_image(s) for s in sorted({h.suite for h in hosts})}
        with Phase("network and proxy"):
            net.create_bridge()
            net.start_proxy()
        with Phase("ACME CA (pebble)"):
            web = next((h for h in hosts if "web" in h.roles), hosts[0])
            directory_ca = acme.start(web.address)
        with Phase("salt-master"):
            master.write_config()
            master.write_secrets()
            ssh_pub = master.ensure_ssh_key()
            repo = gitserve.start()
            hook = webhook.start()
            master.write_site_pillar(
                acme.directory_url(), directory_ca, acme.issuing_root(), ssh_pub, repo, hook
            )
            master.start()
        with Phase("prepare hosts"):
            _prepare(hosts, rootfs, ssh_pub, topology)
        with Phase("boot hosts"):
            for host in hosts:
                host.boot()
            deadline = time.monotonic() + 90
            states = {h.name: h.wait_running(deadline) for h in hosts}
            bad = {n: s for n, s in states.items() if s != "running"}
            if bad:
                log(f"hosts not fully running: {bad}")
        with Phase("minions connect"):
            _wait_minions(hosts)
        with Phase("sync modules, pillar and mine"):
            # One job for the three calls: custom modules, pillar, and the mine peers look up.
            calls = ["saltutil.sync_all,saltutil.refresh_pillar,mine.update", ",,"]
            run(master.salt_cmd("salt", ["*", *calls]), timeout=120)
    except BaseException:
        log("up failed: tearing down what was made")
        teardown()
        raise
    log(f"up: {len(hosts)} hosts of topology {topology} in {time.monotonic() - started:.1f} s")
    return hosts


def _prepare(hosts, rootfs, ssh_pub, topology=None, already=()):
    """Write each of ``hosts`` into its overlay and let the master know it. ``already``: hosts
    of the lab that are running, which the roster, known_hosts and state file keep."""
    everyone = [*already, *hosts]
    keydir = Path(tempfile.mkdtemp(prefix="keys-", dir=paths.RUN))
    known_hosts = paths.RUN / "ssh/known_hosts"
    known = known_hosts.read_text().splitlines() if already and known_hosts.exists() else []
    for host in hosts:
        host.mount(rootfs[host.suite])
        key, pub = master.gen_minion_key(keydir)
        host_key = master.gen_host_key(keydir, host.name)
        host.configure(everyone, minion_conf(host), key, pub, host_key, ssh_pub, net.proxy_url())
        master.accept_key(host.name, pub)
        known.append(
            f"{host.name},{host.address} {host_key[1].split(' ', 2)[0]} "
            f"{host_key[1].split(' ', 2)[1]}"
        )
    shutil.rmtree(keydir)
    known_hosts.write_text("\n".join(known) + "\n")
    master.write_roster(everyone)
    state = {
        "topology": topology,
        "hosts": [dict(h.as_dict(), environment=h.environment) for h in everyone],
    }
    paths.STATE_FILE.write_text(json.dumps(state, indent=2))


def add(name, roles, address, suite=None):
    """Boot one more host into the running lab, as an operator adds a server to a fleet: its
    minion connects and syncs, and every minion's mine is refreshed so peers can find it. No
    state is applied; that is the next highstate's job."""
    preflight()
    hosts, topology = saved_hosts()
    if not hosts or not cgroups.pids("master"):
        raise LabError("the lab is down: run './lab up' first")
    if any(h.name == name for h in hosts):
        raise LabError(f"host {name!r} is already in the lab")
    unknown = set(roles) - KNOWN_ROLES
    if unknown:
        raise LabError(f"unknown roles {sorted(unknown)}; expected some of {sorted(KNOWN_ROLES)}")
    try:
        ok = ipaddress.ip_address(address) in ipaddress.ip_network(paths.TOPOLOGY_SUBNET)
        ok = ok and 2 <= int(address.rsplit(".", 1)[1]) <= 126
    except ValueError:
        ok = False
    shifted = str(ipaddress.ip_address(address) + paths.ADDRESS_OFFSET) if ok else address
    if not ok or any(h.address == shifted for h in hosts):
        raise LabError(
            f"address {address!r} for {name}: expected a free host address in "
            f"{paths.TOPOLOGY_SUBNET} other than 198.18.0.1"
        )
    host = Host(name, shifted, list(roles), suite or hosts[0].suite)
    host.environment = hosts[0].environment
    started = time.monotonic()
    try:
        with Phase(f"add {name}"):
            rootfs = {host.suite: image.ensure_image(host.suite)}
            _prepare([host], rootfs, master.ensure_ssh_key(), topology, already=hosts)
            host.boot()
            state = host.wait_running(time.monotonic() + 90)
            if state != "running":
                log(f"{name} not fully running: {state}")
            _wait_minions([host])
            calls = ["saltutil.sync_all,saltutil.refresh_pillar,mine.update", ",,"]
            run(master.salt_cmd("salt", [name, *calls]), timeout=120)
            run(master.salt_cmd("salt", ["*", "mine.update"]), timeout=120)
    except BaseException:
        log(f"adding {name} failed: stopping it")
        host.stop()
        _prepare([], {}, master.ensure_ssh_key(), topology, already=hosts)
        raise
    log(f"add: {name} ({shifted}) in {time.monotonic() - started:.1f} s")
    return host


def _wait_minions(hosts, seconds=120):
    deadline = time.monotonic() + seconds
    waiting = list(hosts)
    while waiting and time.monotonic() < deadline:
        waiting = [h for h in waiting if not h.minion_ready()]
        time.sleep(0.3)
    if waiting:
        raise LabError(f"minions not ready in {seconds} s: {', '.join(h.name for h in waiting)}")


def teardown():
    """Stop everything the lab runs and remove what it made; safe to run at any time."""
    hosts, _ = saved_hosts()
    threads = [threading.Thread(target=h.stop) for h in hosts]
    for thread in threads:
        thread.start()
    # The master and the proxy stop while the hosts power off.
    cgroups.kill_all("master", grace=2.0)
    cgroups.kill_all("proxy")
    for thread in threads:
        thread.join()
    # Whatever is left in the lab's cgroups (master, proxy, hosts of a lost state file) goes too.
    cgroups.kill_all(grace=3.0)
    _unmount_all()
    cgroups.remove()
    net.delete_bridge()
    propagate = Path("/run/systemd/nspawn/propagate")
    for host in hosts:
        shutil.rmtree(propagate / host.machine, ignore_errors=True)
    shutil.rmtree(paths.RUN, ignore_errors=True)


def _unmount_all():
    home = str(paths.RUN)
    for _ in range(3):
        mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
        ours = [m for m in mounts if m == home or m.startswith(home + "/")]
        if not ours:
            return
        for mountpoint in reversed(ours):
            if run(["umount", mountpoint], check=False).returncode != 0:
                run(["umount", "-l", mountpoint], check=False)
    raise LabError(f"could not unmount the lab's mounts under {home}")


def status():
    hosts, _ = saved_hosts()
    if not hosts:
        return []
    answered = {}
    if cgroups.pids("master"):
        out = run(
            master.salt_cmd("salt", ["*", "test.ping", "--timeout=3", "--out=json", "--static"]),
            check=False,
        ).stdout
        try:
            answered = json.loads(out or "{}")
        except ValueError:
            answered = {}
    rows = []
    for host in hosts:
        rows.append(
            {
                **host.as_dict(),
                "running": host.nspawn_pid() is not None,
                "minion": "answers" if answered.get(host.name) is True else "silent",
            }
        )
    return rows


def find_host(name):
    hosts, _ = saved_hosts()
    for host in hosts:
        if host.name == name:
            return host
    known = ", ".join(h.name for h in hosts) or "none (is the lab up?)"
    raise LabError(f"unknown host {name!r}: the lab has {known}")
