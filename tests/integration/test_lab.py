"""The lab itself: hosts boot with systemd, a master and salt-ssh both reach them, down cleans."""

import ipaddress
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from labkit import cgroups, lab, paths
from labkit.driver import Fleet, failures

pytestmark = pytest.mark.topology("pair")


def test_hosts_run_systemd_as_pid1_with_own_address(fleet):
    for name, host in fleet.hosts.items():
        out = fleet.sh(
            name, "cat /proc/1/comm; systemctl is-system-running; ip -4 -o addr show host0"
        ).stdout.split()
        assert out[0] == "systemd"
        assert out[1] == "running", f"{name}: {fleet.sh(name, 'systemctl --failed').stdout}"
        assert f"{host.address}/{paths.PREFIX}" in out


def test_roles_reach_the_minion_as_grains(fleet):
    grains = fleet.salt("*", "grains.item", "roles", "environment")
    assert set(grains) == set(fleet.hosts)
    for name, value in grains.items():
        assert value["roles"] == fleet.hosts[name].roles
        assert value["environment"] == "staging"


def test_host_grains_describe_cloud_and_size(fleet):
    grains = fleet.salt("node1", "grains.item", "cloud", "sizing", "virtual")["node1"]
    assert grains["cloud"] == "none"
    assert grains["virtual"] == "systemd-nspawn"
    assert grains["sizing"]["cpus"] >= 1 and grains["sizing"]["gunicorn_workers"] >= 1
    assert grains["sizing"]["meets_minimum"] is True


def test_state_through_master_lands_on_the_host(fleet):
    results = fleet.salt(
        "node1", "state.single", "file.managed", "name=/etc/lab-probe", "contents=through-master"
    )
    assert not failures({"node1": list(results["node1"].values())})
    assert fleet.sh("node1", "cat /etc/lab-probe").stdout.strip() == "through-master"


def test_state_through_salt_ssh_lands_on_the_host(fleet):
    # A host the master reaches over ssh only: stop its minion first, so only salt-ssh can work.
    fleet.sh("node2", "systemctl stop salt-minion")
    out = fleet.salt_ssh(
        "node2", "state.single", "file.managed", "name=/etc/lab-probe", "contents=through-ssh"
    )
    ret = out["node2"]
    ret = ret.get("return", ret)
    assert isinstance(ret, dict), ret
    assert all(r["result"] for r in ret.values()), ret
    assert fleet.sh("node2", "cat /etc/lab-probe").stdout.strip() == "through-ssh"
    fleet.sh("node2", "systemctl start salt-minion")


def test_proxy_is_the_only_way_out(fleet):
    # Through the proxy the package registry answers; without it there is no route at all.
    assert "Reading package lists" in fleet.sh("node1", "apt-get update 2>&1").stdout
    direct = fleet.sh("node1", "ip route get 192.0.2.1 2>&1 || true").stdout
    assert "unreachable" in direct or "Network is unreachable" in direct


def test_bad_input_gets_one_line_and_nonzero_exit():
    for args, expect in (
        (["up", "--topology", "nosuch"], "unknown topology 'nosuch'"),
        (["ssh", "nosuchhost"], "unknown host 'nosuchhost'"),
    ):
        result = subprocess.run(["./lab", *args], capture_output=True, text=True, cwd=paths.REPO)
        assert result.returncode == 2
        assert expect in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_down_leaves_nothing_and_up_recovers_after_kill9():
    """Kill -9 everything mid-life; the next up must clean the leftovers and come up."""
    Fleet("pair")
    # kill -9 every nspawn and the whole master of this lab (not another slot's).
    master_pids = cgroups.pids("master")
    for pid in cgroups.pids():
        try:
            comm = Path(f"/proc/{pid}/comm").read_text().strip()
            if comm == "systemd-nspawn" or pid in master_pids:
                os.kill(pid, signal.SIGKILL)
        except (OSError, ProcessLookupError):
            continue
    # And a lab command killed half-way through its own 'up'.
    half = subprocess.Popen(
        ["./lab", "up", "--topology", "pair"],
        cwd=paths.REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(4)
    half.kill()
    half.wait()
    recovered = Fleet("pair")
    assert sorted(recovered.hosts) == ["node1", "node2"]
    assert all(h.nspawn_pid() for h in recovered.hosts.values())
    recovered.down()
    assert_nothing_left()


def assert_nothing_left():
    """Nothing of this slot's lab is left (another slot's lab may be running beside it)."""
    left = cgroups.pids()
    assert not left, f"processes left: {left}"
    mounts = Path("/proc/mounts").read_text()
    assert str(paths.RUN) + "/" not in mounts
    assert not lab.net.bridge_exists()
    assert not any((root / paths.CGROUP_NAME).exists() for root in paths.CGROUP_ROOTS)
    assert not paths.RUN.exists()
    links = json.loads(
        subprocess.run(["ip", "-j", "-4", "addr"], capture_output=True, text=True).stdout
    )
    subnet = ipaddress.ip_network(paths.SUBNET)
    assert not [
        a
        for link in links
        for a in link.get("addr_info", [])
        if ipaddress.ip_address(a["local"]) in subnet
    ]
