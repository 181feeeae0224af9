"""The lab's bridge on the machine and the HTTP proxy through which hosts reach the registries.

Hosts get no route off the bridge (no forwarding, no NAT): the only way out is the proxy, which
listens on the bridge address alone and admits only the lab's subnet.
"""

import ipaddress
import json
import shutil
import subprocess

from labkit import cgroups, paths
from labkit.util import LabError, run

PROXY_DIR = paths.RUN / "proxy"


def check_range_free():
    """Refuse to start when another interface already holds an address of the lab's subnet."""
    subnet = ipaddress.ip_network(paths.SUBNET)
    out = run(["ip", "-j", "-4", "addr", "show"]).stdout
    for link in json.loads(out or "[]"):
        for addr in link.get("addr_info", []):
            if link["ifname"] != paths.BRIDGE and ipaddress.ip_address(addr["local"]) in subnet:
                raise LabError(
                    f"address range {paths.SUBNET} is already in use on {link['ifname']} "
                    f"({addr['local']}): free it or run the lab on another machine"
                )


def bridge_exists():
    return run(["ip", "link", "show", paths.BRIDGE], check=False).returncode == 0


def create_bridge():
    if bridge_exists():
        run(["ip", "link", "del", paths.BRIDGE])
    run(["ip", "link", "add", paths.BRIDGE, "type", "bridge"])
    run(["ip", "addr", "add", f"{paths.GATEWAY}/{paths.PREFIX}", "dev", paths.BRIDGE])
    run(["ip", "link", "set", paths.BRIDGE, "up"])


def delete_bridge():
    if bridge_exists():
        run(["ip", "link", "del", paths.BRIDGE])


def start_proxy():
    """Start tinyproxy on the bridge address, in the lab's cgroup ``proxy``."""
    binary = shutil.which("tinyproxy")
    if binary is None:
        raise LabError("tinyproxy is missing: run 'make deps' (apt-get install tinyproxy)")
    PROXY_DIR.mkdir(parents=True, exist_ok=True)
    conf = PROXY_DIR / "tinyproxy.conf"
    conf.write_text(
        "# Written by the lab: hosts on the lab bridge reach package registries through this.\n"
        "User nobody\nGroup nogroup\n"
        f"Port {paths.PROXY_PORT}\nListen {paths.GATEWAY}\n"
        f"Allow {paths.SUBNET}\n"
        "Timeout 300\nMaxClients 64\nConnectPort 443\nConnectPort 80\n"
        "DisableViaHeader Yes\nLogLevel Warning\n"
    )
    logfile = open(PROXY_DIR / "tinyproxy.log", "ab")
    subprocess.Popen(
        [binary, "-d", "-c", str(conf)],
        stdin=subprocess.DEVNULL,
        stdout=logfile,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=lambda: cgroups.enter("proxy"),
    )
    logfile.close()


def proxy_url():
    return f"http://{paths.GATEWAY}:{paths.PROXY_PORT}"
