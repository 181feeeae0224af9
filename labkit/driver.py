"""Drive a booted lab as an operator would, through the salt CLIs: used by the demo and the tests.

Nothing here knows a formula: it runs ``state.apply`` and reads what Salt reports, and looks at
hosts from outside (HTTP) or from a root shell inside them.
"""

import contextlib
import json
import ssl
import subprocess
import time
import urllib.parse

from cryptography import x509

from labkit import acme, lab, master, paths
from labkit.util import LabError


class Fleet:
    """A booted topology. ``salt``/``salt_ssh`` return the parsed JSON of the command."""

    def __init__(self, topology, suite=None):
        self.topology = topology
        self.hosts = {h.name: h for h in lab.up(topology, suite=suite)}

    def down(self):
        lab.teardown()

    def add_host(self, name, roles, address):
        """Boot one more host into the fleet (see ``lab.add``); no state is applied."""
        host = lab.add(name, roles, address)
        self.hosts[name] = host
        return host

    def _json(self, tool, args, timeout):
        # Not --static: with salt 3008.4 it gives up on jobs that outlast the CLI timeout
        # ("No return received") while the minion is still running them. Without it, each
        # minion's return is printed as its own JSON document.
        cmd = master.salt_cmd(tool, [*args, "--out=json"])
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        try:
            return parse_json_stream(result.stdout)
        except ValueError as err:
            raise LabError(
                f"{tool} {' '.join(args)} gave no JSON (rc {result.returncode}):\n"
                f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
            ) from err

    def salt(self, *args, timeout=900):
        return self._json("salt", args, timeout)

    def salt_ssh(self, *args, timeout=900):
        return self._json("salt-ssh", args, timeout)

    def apply(self, target="*", *args, ssh=False, timeout=1200):
        """Run state.apply; return {minion: [state results]} and fail on a non-dict return."""
        call = self.salt_ssh if ssh else self.salt
        out = call(target, "state.apply", *args, timeout=timeout)
        results = {}
        for minion, ret in out.items():
            if ssh and isinstance(ret, dict) and "return" in ret:
                ret = ret["return"]
            if not isinstance(ret, dict):
                raise LabError(f"{minion}: state.apply did not run: {ret}")
            results[minion] = list(ret.values())
        return results

    def curl(self, url, *options, address=None, timeout=20):
        """Run curl on the machine, as a visitor of the site would, and return the
        CompletedProcess. ``url`` names the site (``https://app.example.test/health``); the name
        is resolved to ``address`` (default: the first web host) and the lab's ACME root is
        trusted, so certificate checks stay on."""
        if address is None:
            address = next(h.address for h in self.hosts.values() if "web" in h.roles)
        name = urllib.parse.urlsplit(url).hostname
        root = acme.ACME_DIR / "issuing-root.pem"
        cmd = ["curl", "--silent", "--show-error", "--max-time", str(timeout)]
        cmd += ["--cacert", str(root)]
        for port in (80, 443):
            cmd += ["--resolve", f"{name}:{port}:{address}"]
        return subprocess.run(
            [*cmd, *options, url], capture_output=True, text=True, timeout=timeout + 10
        )

    def get(self, url, address=None):
        """(status, body) of a GET through :meth:`curl`; status 0 when no answer came."""
        out = self.curl(url, "--write-out", "\\n%{http_code}", address=address)
        body, _, status = out.stdout.rpartition("\n")
        return (int(status), body) if out.returncode == 0 else (0, out.stderr.strip())

    def site_name(self):
        """The site's name: the subject of the certificate the first web host serves, as a
        visitor's browser sees it (asked once). Salt's output masks the pillar key that holds
        the names, so it cannot be asked there."""
        if getattr(self, "_site_name", None) is None:
            address = next(h.address for h in self.hosts.values() if "web" in h.roles)
            pem = ssl.get_server_certificate((address, 443), timeout=10)
            cert = x509.load_pem_x509_certificate(pem.encode())
            names = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
            self._site_name = names[0].value
        return self._site_name

    def orchestrate(self, sls="orch.deploy", timeout=1800):
        """Run an orchestration on the master; return ({minion: [state results]}, {step id:
        result}). A minion highstated by several steps has all their results in its list."""
        out = self._json("salt-run", ["state.orchestrate", sls], timeout)
        steps, per_minion = {}, {}
        for ret in out.get("data", {}).values():
            if not isinstance(ret, dict):
                raise LabError(f"state.orchestrate {sls} did not run: {ret}")
            for step in ret.values():
                steps[step["__id__"]] = step["result"]
                for minion, states in (step.get("changes", {}).get("ret") or {}).items():
                    if isinstance(states, dict) and all(
                        isinstance(v, dict) for v in states.values()
                    ):
                        per_minion.setdefault(minion, []).extend(states.values())
        return per_minion, steps

    @contextlib.contextmanager
    def maintenance(self, *hosts):
        """Hosts in maintenance: their health beacon is off while the block runs, so a service
        stopped on purpose is neither alerted on nor started again by the reactor."""
        target = ",".join(hosts)
        self.salt(target, "beacons.disable_beacon", "wsp_health", "-L", timeout=60)
        try:
            yield
        finally:
            self.salt(target, "beacons.enable_beacon", "wsp_health", "-L", timeout=60)

    def sh(self, host, command):
        """Run a shell command inside a host, as root; return the CompletedProcess."""
        return self.hosts[host].exec("/bin/sh", "-c", command, timeout=120)


def ssh_argv(address, user, *command, options=()):
    """The OpenSSH client's command line to a lab host, with the lab's key and known hosts (host
    keys checked), never prompting."""
    return [
        "ssh",
        "-i",
        str(paths.SSH_KEY),
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "BatchMode=yes",
        "-o",
        "ConnectTimeout=10",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        f"UserKnownHostsFile={paths.RUN / 'ssh/known_hosts'}",
        *options,
        f"{user}@{address}",
        *command,
    ]


def parse_json_stream(text):
    """Merge the JSON documents that salt prints one after another into one dict. Lines before
    the first document (progress and warnings that salt-run prints) are skipped."""
    lines = text.splitlines(keepends=True)
    first = next((i for i, line in enumerate(lines) if line.startswith("{")), None)
    if first is None:
        if text.strip():
            raise ValueError("no JSON document")
        return {}
    text = "".join(lines[first:]).strip()
    decoder, merged, pos = json.JSONDecoder(), {}, 0
    while pos < len(text):
        doc, end = decoder.raw_decode(text, pos)
        merged.update(doc)
        pos = end
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return merged


def failures(results):
    return {
        m: [r for r in rs if r["result"] is False]
        for m, rs in results.items()
        if any(r["result"] is False for r in rs)
    }


def changes(results):
    return {
        m: [r["__id__"] for r in rs if r.get("changes")]
        for m, rs in results.items()
        if any(r.get("changes") for r in rs)
    }


def wait_for(predicate, seconds, interval=0.5):
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)
