"""A local ACME CA for the lab: pebble, with pebble-challtestsrv answering DNS for any name.

Hosts reach the directory at ``https://<gateway>:14000/dir``, over TLS with a certificate the
lab makes for it; pebble checks http-01 challenges by connecting to port 80 of the address its
DNS server gives, which is the first web host of the topology for every name. The CA that pebble
signs with is made anew at each start; :func:`issuing_root` fetches it for clients to trust.
"""

import json
import shutil
import ssl
import subprocess
import time
import urllib.request

from labkit import cgroups, paths
from labkit.util import LabError, run

ACME_DIR = paths.RUN / "acme"
DIRECTORY_PORT = 14000
MANAGEMENT_PORT = 15000
DNS_PORT = 8053


def directory_url():
    return f"https://{paths.GATEWAY}:{DIRECTORY_PORT}/dir"


def _server_certificate():
    """A CA and a server certificate for pebble's own HTTPS listener; returns the CA's PEM."""
    ca_key, ca_cert = ACME_DIR / "tls-ca.key", ACME_DIR / "tls-ca.pem"
    key, csr, cert = ACME_DIR / "tls.key", ACME_DIR / "tls.csr", ACME_DIR / "tls.pem"
    run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            str(ca_key),
            "-out",
            str(ca_cert),
            "-days",
            "30",
            "-subj",
            "/CN=wsp-lab ACME directory CA",
        ]
    )
    run(
        [
            "openssl",
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(csr),
            "-subj",
            "/CN=wsp-lab ACME directory",
        ]
    )
    ext = ACME_DIR / "tls.ext"
    ext.write_text(f"subjectAltName=IP:{paths.GATEWAY}\n")
    run(
        [
            "openssl",
            "x509",
            "-req",
            "-in",
            str(csr),
            "-CA",
            str(ca_cert),
            "-CAkey",
            str(ca_key),
            "-CAcreateserial",
            "-days",
            "30",
            "-extfile",
            str(ext),
            "-out",
            str(cert),
        ]
    )
    return ca_cert.read_text()


def start(web_address):
    """Start pebble and its DNS stand-in; return the PEM of the CA its directory is served by."""
    for tool in ("pebble", "pebble-challtestsrv"):
        if shutil.which(tool) is None:
            raise LabError(f"{tool} is missing: run 'make deps' (apt-get install pebble)")
    ACME_DIR.mkdir(parents=True, exist_ok=True)
    directory_ca = _server_certificate()
    config = {
        "pebble": {
            "listenAddress": f"{paths.GATEWAY}:{DIRECTORY_PORT}",
            "managementListenAddress": f"{paths.GATEWAY}:{MANAGEMENT_PORT}",
            "certificate": str(ACME_DIR / "tls.pem"),
            "privateKey": str(ACME_DIR / "tls.key"),
            "httpPort": 80,
            "tlsPort": 443,
            "ocspResponderURL": "",
            "externalAccountBindingRequired": False,
            # 90 days, as Let's Encrypt issues them.
            "certificateValidityPeriod": 7776000,
        }
    }
    (ACME_DIR / "pebble.json").write_text(json.dumps(config, indent=2))
    # No random nonce rejections and no random validation delays: a test CA, not a torture one.
    env = {"PATH": "/usr/bin:/bin", "PEBBLE_VA_NOSLEEP": "1", "PEBBLE_WFE_NONCEREJECT": "0"}
    _spawn(
        [
            "pebble-challtestsrv",
            "-defaultIPv4",
            web_address,
            "-defaultIPv6",
            "",
            "-dns01",
            f"{paths.GATEWAY}:{DNS_PORT}",
            "-http01",
            "",
            "-https01",
            "",
            "-tlsalpn01",
            "",
            "-management",
            f"{paths.GATEWAY}:8055",
        ],
        "challtestsrv.log",
        env,
    )
    _spawn(
        [
            "pebble",
            "-config",
            str(ACME_DIR / "pebble.json"),
            "-dnsserver",
            f"{paths.GATEWAY}:{DNS_PORT}",
        ],
        "pebble.log",
        env,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            issuing_root()
            return directory_ca
        except OSError:
            if time.monotonic() > deadline:
                raise LabError(f"pebble did not start; see {ACME_DIR / 'pebble.log'}") from None
            time.sleep(0.2)


def _spawn(cmd, logname, env):
    with open(ACME_DIR / logname, "ab") as logfile:
        subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=logfile,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
            preexec_fn=lambda: cgroups.enter("acme"),
        )


def issuing_root():
    """PEM of the root pebble signs certificates with (it changes at every start)."""
    context = ssl.create_default_context(cafile=str(ACME_DIR / "tls-ca.pem"))
    url = f"https://{paths.GATEWAY}:{MANAGEMENT_PORT}/roots/0"
    with urllib.request.urlopen(url, context=context, timeout=5) as resp:
        pem = resp.read().decode()
    (ACME_DIR / "issuing-root.pem").write_text(pem)
    return pem
