"""HTTPS and mutual TLS on the one web server: with `serve.tls_client_ca` a client certificate is required, and the
token still names the organisation."""

from __future__ import annotations

import datetime
import threading
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hub.ledger import Ledger
from hub.settings import ServeSettings
from hub.taxii.media import TAXII
from hub.web.app import web_app
from hub.web.server import WebServer
from tests.taxii.conftest import server_settings


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _write(path: Path, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey | None = None) -> Path:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    if key is not None:
        path.with_suffix(".key").write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))  # fmt: skip
    return path


def pki(directory: Path) -> tuple[Path, Path, Path]:
    """(ca.pem, server.pem + .key for localhost, client.pem + .key for an organisation), one CA signing both."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())

    def issued(subject: str, key: ec.EllipticCurvePrivateKey, ca: bool, usage: x509.ObjectIdentifier | None):
        b = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name("hub test CA"))
             .public_key(key.public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1))
             .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))  # fmt: skip
        if ca:
            b = b.add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), True)
        else:
            b = b.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)  # type: ignore[list-item]
            b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False)
        if subject == "localhost":
            b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        return b.sign(ca_key, hashes.SHA256())

    server_key, client_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    server = issued("localhost", server_key, False, ExtendedKeyUsageOID.SERVER_AUTH)
    client = issued("CERT-EU", client_key, False, ExtendedKeyUsageOID.CLIENT_AUTH)
    return (
        _write(directory / "ca.pem", issued("hub test CA", ca_key, True, None)),
        _write(directory / "server.pem", server, server_key),
        _write(directory / "client.pem", client, client_key),
    )


def test_with_a_client_ca_the_server_requires_a_client_certificate(tmp_path, ledger_url, keyring_file, token):
    ca, server_cert, client_cert = pki(tmp_path)
    tls = ServeSettings(tls_certfile=server_cert, tls_keyfile=server_cert.with_suffix(".key"), tls_client_ca=ca)
    settings = server_settings(tmp_path, ledger_url, keyring_file)
    figures, taxii = Ledger(ledger_url), Ledger(ledger_url)
    app, _ = web_app(settings, figures, taxii, lambda: "")
    server = WebServer(app, "127.0.0.1", 0, tls=tls)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"https://localhost:{server.server_address[1]}/eu/"
    headers = {"Authorization": f"Bearer {token('CERT-EU', 'EU')}", "Accept": TAXII}
    try:
        assert server.url.startswith("https://")
        pair = (str(client_cert), str(client_cert.with_suffix(".key")))
        ok = requests.get(url, headers=headers, verify=str(ca), cert=pair, timeout=10)
        assert ok.status_code == 200
        with pytest.raises(requests.exceptions.ConnectionError):  # no client certificate: the handshake fails
            requests.get(url, headers=headers, verify=str(ca), timeout=10)
        no_token = requests.get(url, headers={"Accept": TAXII}, verify=str(ca), timeout=10, cert=pair)
        assert no_token.status_code == 401  # a certificate alone names no organisation
    finally:
        server.shutdown()
        server.server_close()
        figures.close()
        taxii.close()
