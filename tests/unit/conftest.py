"""Shared helpers of the unit tests: custom Salt modules loaded with mocked dunders, real
certificates made with ``cryptography``, and a small TLS server on 127.0.0.1."""

import contextlib
import datetime
import socket
import ssl
import threading
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def nested_get(data, key, default=None, delimiter=":"):
    """What ``config.get`` does with a pillar: walk ``a:b:c`` through nested mappings."""
    node = data
    for part in key.split(delimiter):
        if not isinstance(node, dict) or part not in node:
            return default
        node = node[part]
    return node


@pytest.fixture
def salt_dunders(monkeypatch, tmp_path):
    """Give a loaded module ``__salt__``, ``__opts__``, ``__grains__`` and ``__pillar__``.

    ``config.get`` reads the pillar given here; other ``__salt__`` functions are passed in.
    """

    def give(module, pillar=None, grains=None, opts=None, salt=None):
        pillar = pillar if pillar is not None else {}
        funcs = {"config.get": lambda key, default=None: nested_get(pillar, key, default)}
        funcs.update(salt or {})
        base_opts = {"cachedir": str(tmp_path / "cache"), "test": False}
        base_opts.update(opts or {})
        monkeypatch.setattr(module, "__salt__", funcs, raising=False)
        monkeypatch.setattr(module, "__opts__", base_opts, raising=False)
        monkeypatch.setattr(module, "__grains__", grains or {}, raising=False)
        monkeypatch.setattr(module, "__pillar__", pillar, raising=False)
        return funcs

    return give


class CertMaker:
    """Real certificates in a folder: a test CA, and leaves it signs with any lifetime."""

    def __init__(self, folder, ca_name="WSP Test CA"):
        self.folder = folder
        self.ca_key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ca_name)])
        now = datetime.datetime.now(datetime.UTC)
        self.ca_cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.ca_key, hashes.SHA256())
        )
        self.ca_path = folder / f"{ca_name.replace(' ', '-').lower()}.pem"
        self.ca_path.write_bytes(self.ca_cert.public_bytes(serialization.Encoding.PEM))

    def leaf(self, stem, days_left, names=("app.example.test",), valid_from_days=-30, san=True):
        """Write ``<stem>.pem``, ``.der``, ``.key`` and ``-chain.pem``; return the certificate.

        The subject's CN is the first name; with ``san`` every name is also a DNS name in the
        subjectAltName extension.
        """
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(self.ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now + datetime.timedelta(days=valid_from_days))
            .not_valid_after(now + datetime.timedelta(days=days_left))
        )
        if san:
            names_ext = x509.SubjectAlternativeName([x509.DNSName(name) for name in names])
            builder = builder.add_extension(names_ext, critical=False)
        cert = builder.sign(self.ca_key, hashes.SHA256())
        pem = cert.public_bytes(serialization.Encoding.PEM)
        (self.folder / f"{stem}.pem").write_bytes(pem)
        (self.folder / f"{stem}-chain.pem").write_bytes(
            pem + self.ca_cert.public_bytes(serialization.Encoding.PEM)
        )
        (self.folder / f"{stem}.der").write_bytes(cert.public_bytes(serialization.Encoding.DER))
        (self.folder / f"{stem}.key").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return cert


@pytest.fixture
def certs(tmp_path):
    folder = tmp_path / "certs"
    folder.mkdir()
    return CertMaker(folder)


@pytest.fixture
def tls_server():
    """The :py:func:`serve_tls` context manager, for tests that serve a certificate."""
    return serve_tls


@contextlib.contextmanager
def serve_tls(cert_file, key_file, respond=None, max_connections=8, lifetime=20):
    """Serve TLS on 127.0.0.1 in a thread; yield the port.

    The thread ends by itself after ``max_connections`` connections or ``lifetime`` seconds,
    whichever comes first, and at the end of the ``with`` block. ``respond(tls_socket)`` may
    answer each connection; by default the server only completes the handshake.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert_file), str(key_file))
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    stop = threading.Event()

    def serve():
        deadline = time.monotonic() + lifetime
        served = 0
        while not stop.is_set() and served < max_connections and time.monotonic() < deadline:
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            served += 1
            conn.settimeout(2)
            try:
                with context.wrap_socket(conn, server_side=True) as tls:
                    if respond:
                        respond(tls)
                    else:
                        with contextlib.suppress(OSError):
                            tls.recv(1)
            except (ssl.SSLError, OSError):
                # A client that refuses the certificate aborts the handshake.
                conn.close()

    thread = threading.Thread(target=serve, name="tls-test-server", daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()
