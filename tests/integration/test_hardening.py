"""Host hardening on booted hosts, judged by tools nobody on this project wrote.

ssh-audit grades sshd against its own hardened policy, a real ssh client tries the logins that
must fail and the one that must work, nmap and plain TCP connections from the other hosts map the
firewall, and lynis scores the whole host. The cases where hardening locks people or Salt out are
shown too: YAML booleans in pillar (C2) and salt-ssh as the admin once root may no longer log in
(C14). The first run on a fresh host (C3, C13) is in test_hardening_first_run.py: it needs a host
that was never converged, this module the shared converged cluster.
"""

import re
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from labkit import image, master, paths
from labkit.driver import changes, failures, ssh_argv

# Which ports a role opens, and to whom: "any" host, or only the hosts of the role named.
ROLE_PORTS = {
    "web": {80: "any", 443: "any"},
    "app": {8000: "web"},
    "db": {5432: "app", 6432: "app"},
    "cache": {6379: "app"},
}
SSH_PORT = 22
PROBED_PORTS = sorted({SSH_PORT, *(p for ports in ROLE_PORTS.values() for p in ports)})

# The converged five-host fleet: every role on a host of its own, so every "only from" is seen.
pytestmark = pytest.mark.parametrize("stack", ["cluster"], indirect=True)


def ssh(address, user, *command, options=()):
    """The OpenSSH client on the machine; returns the CompletedProcess."""
    cmd = ssh_argv(address, user, *command, options=options)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def expected_open(fleet, target, source):
    """Ports of ``target`` that ``source`` (a host name, or None for the machine) must reach."""
    source_roles = fleet.hosts[source].roles if source else []
    ports = {SSH_PORT}
    for role in fleet.hosts[target].roles:
        for port, allowed in ROLE_PORTS[role].items():
            if allowed == "any" or allowed in source_roles:
                ports.add(port)
    return ports


def probe_from(fleet, source, targets):
    """{(target, port): 'open' | 'closed' | 'filtered'} as seen by a plain TCP connection from
    inside ``source``: connected, refused (the firewall let it through to a closed port), or no
    answer within 3 s (dropped). All probes run at once, so a drop costs 3 s in total."""
    probes = " ".join(f"{fleet.hosts[t].address}:{p}" for t in targets for p in PROBED_PORTS)
    script = (
        f"for probe in {probes}; do "
        '( timeout 3 bash -c "</dev/tcp/${probe%:*}/${probe#*:}" 2>/dev/null; '
        'echo "$probe $?" ) & done; wait'
    )
    out = fleet.sh(source, f"bash -c '{script}'").stdout
    by_address = {fleet.hosts[t].address: t for t in targets}
    verdict = {0: "open", 1: "closed", 124: "filtered"}
    seen = {}
    for line in out.splitlines():
        probe, rc = line.split()
        address, port = probe.rsplit(":", 1)
        seen[(by_address[address], int(port))] = verdict.get(int(rc), f"rc {rc}")
    return seen


def nmap(addresses, *options):
    """{address: {port: state}} of the TCP ports nmap lists (open, closed) from the machine."""
    cmd = ["nmap", "-Pn", "-n", "-oX", "-", *options, *addresses]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=True).stdout
    found = {}
    for host in ET.fromstring(out).iter("host"):
        address = host.find("address").get("addr")
        found[address] = {
            int(port.get("portid")): port.find("state").get("state") for port in host.iter("port")
        }
    return found


def hardened_policy(version_id):
    """The newest built-in ssh-audit policy for the host's Debian release. Debian patches its
    OpenSSH (the strict key exchange, the sntrup761 name), so the upstream release's policy
    would judge a package it was not written for."""
    listing = subprocess.run(
        [master.venv_bin("ssh-audit"), "-L"], capture_output=True, text=True
    ).stdout
    versions = re.findall(rf'"Hardened Debian {version_id} \(version (\d+)\)"', listing)
    assert versions, f"ssh-audit 3.9 has no policy for Debian {version_id}:\n{listing}"
    return f"Hardened Debian {version_id} (version {max(map(int, versions))})"


def test_ssh_audit_passes_the_hardened_policy_on_every_host(stack):
    for name, host in stack.hosts.items():
        release = stack.sh(name, ". /etc/os-release && echo $VERSION_ID").stdout.strip()
        policy = hardened_policy(release)
        out = subprocess.run(
            [master.venv_bin("ssh-audit"), "-n", "-p", str(SSH_PORT), "-P", policy, host.address],
            capture_output=True,
            text=True,
            timeout=120,
        )
        print(f"ssh-audit {name}: {policy}: exit {out.returncode}")
        assert out.returncode == 0, out.stdout


def test_the_server_offers_public_keys_only(stack):
    for name, host in stack.hosts.items():
        out = ssh(
            host.address,
            image.ADMIN_USER,
            "true",
            options=(
                "-o",
                "PreferredAuthentications=password",
                "-o",
                "PubkeyAuthentication=no",
            ),
        )
        assert out.returncode == 255, f"{name}: {out.stderr}"
        # The methods sshd lists after a refusal are all it would ever accept.
        assert "Permission denied (publickey)." in out.stderr, f"{name}: {out.stderr}"


def test_root_is_refused_even_with_an_authorised_key(stack):
    key = Path(f"{paths.SSH_KEY}.pub").read_text().split()[1]
    for name, host in stack.hosts.items():
        # The lab authorised this key for root at boot: only sshd's policy stands in the way.
        assert key in stack.sh(name, "cat /root/.ssh/authorized_keys").stdout
        out = ssh(host.address, "root", "true")
        assert out.returncode == 255, f"{name}: root got in"
        assert "Permission denied" in out.stderr


def test_the_admin_logs_in_with_the_key_and_has_sudo(stack):
    for name, host in stack.hosts.items():
        out = ssh(host.address, image.ADMIN_USER, "sudo -n id -un")
        assert out.returncode == 0, f"{name}: {out.stderr}"
        assert out.stdout.strip() == "root"


def test_nmap_from_the_machine_finds_only_the_roles_ports(stack):
    addresses = {h.address: name for name, h in stack.hosts.items()}
    # Every TCP port of every host: nothing beyond what the roles need may answer.
    started = time.monotonic()
    full = nmap(
        addresses,
        "-p-",
        "-T5",
        "--min-rate",
        "30000",
        "--max-rtt-timeout",
        "50ms",
        "--initial-rtt-timeout",
        "20ms",
        "--max-retries",
        "1",
    )
    print(f"nmap of every TCP port of {len(addresses)} hosts: {time.monotonic() - started:.0f} s")
    # The roles' ports once more at nmap's careful pace, so a packet lost to the fast scan's
    # rate cannot pass for a closed port.
    careful = nmap(addresses, "-p", ",".join(map(str, PROBED_PORTS)))
    for address, name in addresses.items():
        answering = {p for p, state in full.get(address, {}).items() if state != "filtered"}
        print(f"nmap {name}: answering {sorted(answering)}")
        want = expected_open(stack, name, None)
        assert answering <= want, f"{name}: unexpected ports answer: {answering - want}"
        states = careful[address]
        assert {p for p, s in states.items() if s == "open"} == want, f"{name}: {states}"
        assert all(s in ("open", "filtered") for s in states.values()), f"{name}: {states}"


def test_other_hosts_reach_only_what_their_roles_allow(stack):
    for source in stack.hosts:
        targets = [t for t in stack.hosts if t != source]
        seen = probe_from(stack, source, targets)
        for target in targets:
            want = expected_open(stack, target, source)
            got = {port: seen[(target, port)] for port in PROBED_PORTS}
            print(f"from {source} to {target}: open {sorted(p for p in got if got[p] == 'open')}")
            # Open exactly where allowed; elsewhere dropped, never refused (a refusal means
            # the firewall let the packet through).
            assert got == {p: "open" if p in want else "filtered" for p in PROBED_PORTS}, (
                f"{source} -> {target}: {got}"
            )


def test_lynis_hardening_index_is_at_least_75(stack):
    web = next(name for name, h in stack.hosts.items() if "web" in h.roles)
    out = stack.hosts[web].exec("lynis", "audit", "system", "--quick", "--no-colors", timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    report = stack.sh(web, "cat /var/log/lynis-report.dat").stdout
    index = int(re.search(r"^hardening_index=(\d+)$", report, re.M).group(1))
    suggestions = re.findall(r"^suggestion\[\]=([^|]+)\|([^|]*)\|", report, re.M)
    print(f"lynis hardening index on {web}: {index} ({len(suggestions)} suggestions)")
    for test_id, text in suggestions:
        print(f"  {test_id}: {text}")
    assert index >= 75


def test_yaml_booleans_in_pillar_reach_sshd_as_words(stack):
    """C2: ``no``/``yes`` unquoted are YAML booleans; sshd must get the words, not False."""
    host = next(name for name, h in stack.hosts.items() if "cache" in h.roles)
    local = master.LAB_PILLAR / "staging" / "local.sls"
    original = local.read_text()
    # Written the way people write YAML, in the lab's own site pillar of this environment.
    unquoted = (
        "\nhardening:\n  ssh:\n    password_authentication: no\n    permit_root_login: no\n"
        "    allow_agent_forwarding: yes\n"
    )
    assert "\nhardening:\n" in original
    local.write_text(original.replace("\nhardening:\n", unquoted, 1))
    try:
        stack.salt(host, "saltutil.refresh_pillar", "wait=True")
        pillar = stack.salt(host, "pillar.get", "hardening:ssh")[host]
        # (Salt masks the value of allow_agent_forwarding in its output: its key looks secret.)
        assert pillar["password_authentication"] is False
        assert pillar["permit_root_login"] is False

        applied = stack.apply(host, "hardening.ssh")
        assert not failures(applied), failures(applied)
        assert stack.sh(host, "sshd -t").returncode == 0
        effective = sshd_effective(stack, host)
        assert effective["passwordauthentication"] == "no"
        assert effective["permitrootlogin"] == "no"
        assert effective["allowagentforwarding"] == "yes"
        written = stack.sh(host, "cat /etc/ssh/sshd_config").stdout
        assert not re.search(r"\b(True|False)\b", written)
    finally:
        local.write_text(original)
        stack.salt(host, "saltutil.refresh_pillar", "wait=True")
        restored = stack.apply(host, "hardening.ssh")
    assert not failures(restored)
    assert sshd_effective(stack, host)["allowagentforwarding"] == "no"


def sshd_effective(fleet, host):
    """sshd's effective configuration (``sshd -T``) as {keyword: value}."""
    out = fleet.sh(host, "sshd -T").stdout
    return dict(line.split(" ", 1) for line in out.splitlines() if " " in line)


def test_salt_ssh_works_as_the_admin_and_its_highstate_agrees_with_the_minion(stack):
    """C14: root may not log in, so salt-ssh comes as the admin with sudo, and a highstate over
    salt-ssh converges to the very state the minion's does (no change either way)."""
    host = next(name for name, h in stack.hosts.items() if "cache" in h.roles)
    roster = yaml.safe_load(paths.ROSTER.read_text())
    assert roster[host]["user"] == image.ADMIN_USER

    whoami = stack.salt_ssh(host, "cmd.run", "id -un")[host]
    if isinstance(whoami, dict):
        whoami = whoami.get("return", whoami)
    assert whoami == "root"

    over_ssh = stack.apply(host, ssh=True)
    assert not failures(over_ssh), failures(over_ssh)
    assert not changes(over_ssh), changes(over_ssh)
    over_minion = stack.apply(host)
    assert not failures(over_minion), failures(over_minion)
    assert not changes(over_minion), changes(over_minion)


def test_hardening_again_changes_nothing(stack):
    again = stack.apply("*", "hardening")
    assert set(again) == set(stack.hosts)
    assert not failures(again), failures(again)
    assert not changes(again), changes(again)
