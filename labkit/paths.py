"""Where the lab keeps its files, and the fixed names it claims on the machine."""

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# Everything the lab writes lives under one folder outside the checkout, so a crashed run of any
# clone can be found and cleaned by the next one.
HOME = Path(os.environ.get("WSPLAB_HOME", "/var/lib/wsp-lab"))
IMAGES = HOME / "images"
PIP_CACHE = HOME / "cache" / "pip"
RUN = HOME / "run"
HOSTS = RUN / "hosts"
MASTER = RUN / "master"
MASTER_CONF_DIR = MASTER / "etc"
STATE_FILE = RUN / "lab.json"
ROSTER = RUN / "roster"
SSH_KEY = RUN / "ssh" / "id_ed25519"

BRIDGE = "wsplab0"
SUBNET = "198.18.0.0/24"
GATEWAY = "198.18.0.1"
PREFIX = 24
PROXY_PORT = 3128
CGROUP_NAME = "wsplab"
CGROUP_ROOTS = (Path("/sys/fs/cgroup/systemd"), Path("/sys/fs/cgroup/unified"))
