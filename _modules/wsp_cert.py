"""
Certificate facts: days left, names, issuer and serial, of a PEM file or of a live TLS endpoint.

Salt's own ``tls`` module and ``cert_info`` beacon do not load with the pyOpenSSL that Salt 3008
requires, so this module reads certificates with the ``cryptography`` package and fetches a
peer's certificate with Python's ``ssl`` module. Each certificate gets a ``status``:

``ok``
    More than ``warn_days`` days left.
``warning``
    At most ``warn_days`` days left.
``critical``
    At most ``crit_days`` days left, or not valid yet.
``expired``
    Past its ``not_after`` time.
``error``
    Could not be read or fetched (only in :py:func:`check`, which carries on with the others).

The thresholds come from the arguments, else from the minion's configuration or pillar
(``monitoring:certs:warn_days`` and ``monitoring:certs:crit_days``), else 21 and 7 days.
:py:func:`check` with no arguments reads the files and endpoints to check from
``monitoring:certs:paths`` and ``monitoring:certs:endpoints``; on a host with the ``web`` role and
neither set, it checks the nginx site's certificate file and its HTTPS port on 127.0.0.1.

:depends: cryptography (Salt's onedir carries it; under salt-ssh, the host's
    ``python3-cryptography``, which certbot needs too)

CLI Example:

.. code-block:: bash

    salt '*' wsp_cert.info /etc/nginx/tls/acoustic-lab/fullchain.pem
    salt '*' wsp_cert.endpoint 127.0.0.1 server_name=app.example.test
    salt '*' wsp_cert.check
"""

import datetime
import logging
import os
import socket
import ssl

from salt.exceptions import CommandExecutionError, SaltInvocationError

try:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    HAS_CRYPTOGRAPHY = True
except ImportError:
    HAS_CRYPTOGRAPHY = False

log = logging.getLogger(__name__)

__virtualname__ = "wsp_cert"

DEFAULT_WARN_DAYS = 21
DEFAULT_CRIT_DAYS = 7

# Worst last: the overall status of several certificates is the worst of theirs. An expired
# certificate outranks one that could not be checked, which is an unknown, not a known outage.
STATUS_ORDER = ("ok", "warning", "critical", "error", "expired")

# Where the nginx formula links the site's certificate; kept equal to salt/nginx/defaults.yaml
# (tls_dir, site:name) by a unit test.
_SITE_DEFAULTS = {"tls_dir": "/etc/nginx/tls", "name": "acoustic-lab", "tls_port": 443}


def __virtual__():
    if not HAS_CRYPTOGRAPHY:
        return (False, "wsp_cert needs the cryptography package, which cannot be imported")
    return __virtualname__


def _number(value, what):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise SaltInvocationError(f"{what} must be a number of days of 0 or more, not {value!r}")
    return value


def _thresholds(warn_days=None, crit_days=None):
    if warn_days is None:
        warn_days = __salt__["config.get"]("monitoring:certs:warn_days", DEFAULT_WARN_DAYS)
    if crit_days is None:
        crit_days = __salt__["config.get"]("monitoring:certs:crit_days", DEFAULT_CRIT_DAYS)
    warn_days = _number(warn_days, "warn_days")
    crit_days = _number(crit_days, "crit_days")
    if crit_days > warn_days:
        raise SaltInvocationError(
            f"crit_days ({crit_days}) must not be more than warn_days ({warn_days})"
        )
    return warn_days, crit_days


def _utc(cert, name):
    # cryptography 42 added the *_utc properties; older releases give naive UTC datetimes.
    value = getattr(cert, f"{name}_utc", None)
    if value is None:
        value = getattr(cert, name).replace(tzinfo=datetime.UTC)
    return value


def _common_name(name):
    values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return values[0].value if values else None


def _serial_hex(number):
    # Upper-case hex padded to whole bytes, as "openssl x509 -serial" prints it.
    text = f"{number:X}"
    return text if len(text) % 2 == 0 else "0" + text


def _dns_names(cert):
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    return san.value.get_values_for_type(x509.DNSName)


def _status(days_left, not_before, now, warn_days, crit_days):
    if days_left <= 0:
        return "expired"
    if now < not_before or days_left <= crit_days:
        return "critical"
    if days_left <= warn_days:
        return "warning"
    return "ok"


def _facts(cert, source, warn_days, crit_days, now=None):
    now = now or datetime.datetime.now(datetime.UTC)
    not_before, not_after = _utc(cert, "not_valid_before"), _utc(cert, "not_valid_after")
    days_left = (not_after - now).total_seconds() / 86400
    status = _status(days_left, not_before, now, warn_days, crit_days)
    facts = {
        "source": source,
        "status": status,
        "days_left": round(days_left, 3),
        "days_left_int": int(days_left),
        "not_before": not_before.isoformat(),
        "not_after": not_after.isoformat(),
        "subject_cn": _common_name(cert.subject),
        "dns_names": _dns_names(cert),
        "issuer": cert.issuer.rfc4514_string(),
        "issuer_cn": _common_name(cert.issuer),
        "serial": _serial_hex(cert.serial_number),
        "warn_days": warn_days,
        "crit_days": crit_days,
    }
    if status != "ok":
        log.warning(
            "certificate %s is %s: %.1f days left (warning at %s, critical at %s)",
            source,
            status,
            days_left,
            warn_days,
            crit_days,
        )
    return facts


def _load_file(path):
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as err:
        raise CommandExecutionError(f"cannot read certificate file {path}: {err.strerror}") from err
    try:
        if b"-----BEGIN" in data:
            # A chain file (fullchain.pem) starts with the host's own certificate.
            # Limitation: only this first certificate is judged, not an intermediate ending sooner.
            return x509.load_pem_x509_certificates(data)[0]
        return x509.load_der_x509_certificate(data)
    except ValueError as err:
        raise CommandExecutionError(f"{path} holds no readable certificate: {err}") from err


def info(path, warn_days=None, crit_days=None):
    """
    Return the facts of the first certificate in a PEM (or DER) file.

    The result holds ``days_left`` (a float) and ``days_left_int`` (whole days, rounded toward
    zero, so -2 for a certificate that ended two and a half days ago), ``not_before``
    and ``not_after`` (ISO 8601, UTC), ``subject_cn``, ``dns_names``, ``issuer``, ``issuer_cn``,
    ``serial`` (upper-case hex, as ``openssl x509 -serial`` prints it) and ``status``. A chain
    file such as certbot's ``fullchain.pem`` is read for its first certificate, the host's own.

    path
        Absolute path of the certificate file.

    warn_days
        Days left at or under which the status is ``warning``. Defaults to the configuration
        value ``monitoring:certs:warn_days``, else 21.

    crit_days
        Days left at or under which the status is ``critical``. Defaults to the configuration
        value ``monitoring:certs:crit_days``, else 7.

    CLI Example:

    .. code-block:: bash

        salt '*' wsp_cert.info /etc/letsencrypt/live/acoustic-lab/cert.pem warn_days=30
    """
    if not isinstance(path, str) or not os.path.isabs(path):
        raise SaltInvocationError(f"path must be an absolute file path, not {path!r}")
    warn_days, crit_days = _thresholds(warn_days, crit_days)
    cert = _load_file(path)
    return dict(_facts(cert, path, warn_days, crit_days), path=path)


def _fetch_der(host, port, server_name, context, timeout):
    with socket.create_connection((host, port), timeout=timeout) as sock:
        with context.wrap_socket(sock, server_hostname=server_name) as tls:
            return tls.getpeercert(binary_form=True), tls.version()


def endpoint(
    host,
    port=443,
    server_name=None,
    cafile=None,
    timeout=5,
    verify=False,
    warn_days=None,
    crit_days=None,
):
    """
    Return the facts of the certificate a live TLS endpoint presents.

    The certificate is always fetched without verification first, so the days left of an
    expired or self-signed certificate are still reported. With ``verify`` (or a ``cafile``)
    the handshake is also verified against the trusted CAs and the server name; the result then
    says ``verified`` true or false and, when false, why in ``verify_error``.

    host
        Name or address to connect to.

    port
        TCP port. Defaults to 443.

    server_name
        Name sent in the TLS handshake (SNI) and checked when verifying. Defaults to ``host``.

    cafile
        PEM file of the CAs to trust when verifying; implies ``verify``. Defaults to none (the
        system's trust store when ``verify`` is true).

    timeout
        Seconds to wait for the connection and the handshake. Defaults to 5.

    verify
        Also verify the chain and the name. Defaults to false.

    warn_days
        As for :py:func:`info`. Defaults to ``monitoring:certs:warn_days``, else 21.

    crit_days
        As for :py:func:`info`. Defaults to ``monitoring:certs:crit_days``, else 7.

    CLI Example:

    .. code-block:: bash

        salt '*' wsp_cert.endpoint 127.0.0.1 443 server_name=app.example.test
        salt '*' wsp_cert.endpoint app.example.test cafile=/etc/ssl/certs/lab-ca.pem
    """
    if not isinstance(host, str) or not host or any(char.isspace() for char in host):
        raise SaltInvocationError(f"host must be a host name or address, not {host!r}")
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise SaltInvocationError(f"port must be an integer from 1 to 65535, not {port!r}")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise SaltInvocationError(f"timeout must be a positive number of seconds, not {timeout!r}")
    if cafile is not None and (not isinstance(cafile, str) or not os.path.isabs(cafile)):
        raise SaltInvocationError(f"cafile must be an absolute file path, not {cafile!r}")
    warn_days, crit_days = _thresholds(warn_days, crit_days)
    server_name = server_name or host
    source = f"{host}:{port}" if server_name == host else f"{host}:{port} ({server_name})"

    plain = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    plain.check_hostname = False
    plain.verify_mode = ssl.CERT_NONE
    try:
        der, version = _fetch_der(host, port, server_name, plain, timeout)
    except (OSError, ssl.SSLError) as err:
        raise CommandExecutionError(f"cannot fetch the certificate of {source}: {err}") from err
    if not der:
        raise CommandExecutionError(f"{source} presented no certificate")
    facts = _facts(x509.load_der_x509_certificate(der), source, warn_days, crit_days)
    facts.update(host=host, port=port, server_name=server_name, tls_version=version)

    # Limitation: revocation (OCSP, CRLs) is not checked, only the chain, name and dates.
    facts["verified"] = None
    if verify or cafile:
        try:
            checked = ssl.create_default_context(cafile=cafile)
        except (OSError, ssl.SSLError) as err:
            raise CommandExecutionError(f"cannot load the CA file {cafile}: {err}") from err
        try:
            _fetch_der(host, port, server_name, checked, timeout)
        except ssl.SSLCertVerificationError as err:
            facts.update(verified=False, verify_error=err.verify_message or str(err))
            log.warning("certificate of %s does not verify: %s", source, facts["verify_error"])
        except (OSError, ssl.SSLError) as err:
            facts.update(verified=False, verify_error=str(err))
        else:
            facts["verified"] = True
    return facts


def _parse_endpoint(spec):
    """Turn ``host``, ``host:port``, ``[v6]:port`` or a mapping into endpoint() arguments.

    A mapping's ``host`` may carry the port the same way when the mapping has no ``port``.
    """
    if isinstance(spec, dict):
        allowed = {"host", "port", "server_name", "cafile", "timeout", "verify"}
        unknown = set(spec) - allowed
        if "host" not in spec or unknown:
            raise SaltInvocationError(
                f"an endpoint mapping needs 'host' and may also hold {sorted(allowed - {'host'})}"
                f", not {sorted(spec)}"
            )
        spec = dict(spec)
        if "port" not in spec and isinstance(spec["host"], str):
            spec.update(_parse_endpoint(spec["host"]))
        return spec
    if not isinstance(spec, str) or not spec:
        raise SaltInvocationError(f"an endpoint is 'host', 'host:port' or a mapping, not {spec!r}")
    host, port = spec, 443
    if spec.startswith("["):
        host, _, rest = spec[1:].partition("]")
        if rest:
            port = rest.lstrip(":")
    elif spec.count(":") == 1:
        host, port = spec.split(":")
    try:
        port = int(port)
    except ValueError as err:
        raise SaltInvocationError(f"endpoint {spec!r}: the port must be a number") from err
    return {"host": host, "port": port}


def _default_targets():
    paths = __salt__["config.get"]("monitoring:certs:paths", [])
    endpoints = __salt__["config.get"]("monitoring:certs:endpoints", [])
    roles = __grains__.get("roles") or []
    if paths or endpoints or "web" not in roles:
        return paths, endpoints
    tls_dir = __salt__["config.get"]("nginx:tls_dir", _SITE_DEFAULTS["tls_dir"])
    site = __salt__["config.get"]("nginx:site:name", _SITE_DEFAULTS["name"])
    names = __salt__["config.get"]("nginx:site:server_names", []) or ["localhost"]
    port = __salt__["config.get"]("nginx:site:tls_port", _SITE_DEFAULTS["tls_port"])
    site_endpoint = {"host": "127.0.0.1", "port": port, "server_name": names[0]}
    return [f"{tls_dir}/{site}/fullchain.pem"], [site_endpoint]


def _as_list(value, what):
    if value is None:
        return []
    if isinstance(value, (str, dict)):
        return [value]
    if not isinstance(value, (list, tuple)):
        raise SaltInvocationError(f"{what} must be a list, not {value!r}")
    return list(value)


def check(paths=None, endpoints=None, warn_days=None, crit_days=None):
    """
    Check several certificates; return one result each and the worst status of them all.

    A certificate that cannot be read or fetched gets status ``error`` and a ``message``; the
    others are still checked. The overall ``status`` is the worst one, in the order ok,
    warning, critical, error, expired; ``ok`` is true only when every certificate is ``ok``.

    paths
        Certificate files (absolute paths). Defaults to ``monitoring:certs:paths``.

    endpoints
        Live endpoints: ``host``, ``host:port``, ``[address]:port``, or a mapping with ``host``
        (which may carry the port the same way) and any of ``port``, ``server_name``,
        ``cafile``, ``timeout``, ``verify``. Defaults to ``monitoring:certs:endpoints``. When
        neither is given nor configured, a ``web`` host checks the nginx site's
        ``fullchain.pem`` and 127.0.0.1 on the site's HTTPS port.

    warn_days
        As for :py:func:`info`. Defaults to ``monitoring:certs:warn_days``, else 21.

    crit_days
        As for :py:func:`info`. Defaults to ``monitoring:certs:crit_days``, else 7.

    CLI Example:

    .. code-block:: bash

        salt '*' wsp_cert.check
        salt '*' wsp_cert.check paths='[/etc/nginx/tls/acoustic-lab/fullchain.pem]'
        salt '*' wsp_cert.check endpoints='["127.0.0.1:443"]' crit_days=10
    """
    if paths is None and endpoints is None:
        paths, endpoints = _default_targets()
    paths = _as_list(paths, "paths")
    endpoints = [_parse_endpoint(spec) for spec in _as_list(endpoints, "endpoints")]
    warn_days, crit_days = _thresholds(warn_days, crit_days)

    results = []
    for path in paths:
        try:
            results.append(info(path, warn_days=warn_days, crit_days=crit_days))
        except CommandExecutionError as err:
            results.append({"source": path, "status": "error", "message": str(err)})
    for args in endpoints:
        try:
            results.append(endpoint(warn_days=warn_days, crit_days=crit_days, **args))
        except CommandExecutionError as err:
            source = f"{args['host']}:{args.get('port', 443)}"
            results.append({"source": source, "status": "error", "message": str(err)})
    for result in results:
        if result["status"] == "error":
            log.warning("certificate check failed: %s", result["message"])

    status = max((r["status"] for r in results), key=STATUS_ORDER.index, default="ok")
    return {
        "ok": status == "ok",
        "status": status,
        "warn_days": warn_days,
        "crit_days": crit_days,
        "certificates": results,
    }
