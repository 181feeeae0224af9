"""Where the lab keeps its files, and the fixed names it claims on the machine."""

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# Everything the lab writes lives under one folder outside the checkout, so a crashed run of any
# clone can be found and cleaned by the next one.
HOME = Path(os.environ.get("WSPLAB_HOME", "/var/lib/wsp-lab"))
IMAGES = HOME / "images"
PIP_CACHE = HOME / "cache" / "pip"

# Two labs can run side by side on one machine (say, two people or two test runs): slot 0, the
# default, and slot 1 (WSPLAB_SLOT=1). Each slot has half of 198.18.0.0/24, its own bridge,
# cgroup tree and run folder; topology addresses are written for slot 0 and shifted by 128 in
# slot 1. Images and caches are shared.
SLOT = int(os.environ.get("WSPLAB_SLOT", "0"))
if SLOT not in (0, 1):
    raise SystemExit(f"lab: error: WSPLAB_SLOT is {SLOT!r}; expected 0 or 1")
RUN = HOME / ("run" if SLOT == 0 else f"run-slot{SLOT}")
HOSTS = RUN / "hosts"
MASTER = RUN / "master"
MASTER_CONF_DIR = MASTER / "etc"
STATE_FILE = RUN / "lab.json"
ROSTER = RUN / "roster"
SSH_KEY = RUN / "ssh" / "id_ed25519"

BRIDGE = f"wsplab{SLOT}"
SUBNET = f"198.18.0.{128 * SLOT}/25"
GATEWAY = f"198.18.0.{128 * SLOT + 1}"
PREFIX = 25
ADDRESS_OFFSET = 128 * SLOT
TOPOLOGY_SUBNET = "198.18.0.0/25"
PROXY_PORT = 3128
CGROUP_NAME = "wsplab" if SLOT == 0 else f"wsplab{SLOT}"
# nspawn names each host's veth on the machine after it: names must differ between slots.
MACHINE_PREFIX = "" if SLOT == 0 else f"s{SLOT}-"
CGROUP_ROOTS = (Path("/sys/fs/cgroup/systemd"), Path("/sys/fs/cgroup/unified"))
