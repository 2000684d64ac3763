"""The link to central is private (issue 13): terminals refuse a plain-HTTP central that is
not this machine, trust the institute's CA (``ca_bundle``) or the system's store, and report
a certificate they cannot trust as its own state; central serves HTTPS itself when given a
certificate and key. The CA is made here, for loopback, with ``cryptography``."""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from central.embedded import CentralProcess
from sync.client import CentralClient, CertificateFailure, InsecureCentral, Offline


def _name(text: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A CA of the institute and a certificate it signed for 127.0.0.1."""
    folder = tmp_path_factory.mktemp("pki")
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("CA de prueba ISSEG"))
        .issuer_name(_name("CA de prueba ISSEG"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )  # fmt: skip
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("central.isseg.local"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = {"ca": folder / "ca.pem", "cert": folder / "central.pem", "key": folder / "key.pem"}
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths["cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_key(key, paths["key"])
    return paths


@pytest.fixture(scope="module")
def tls_central(pki: dict[str, Path]):
    with CentralProcess(server_args=["--cert", str(pki["cert"]), "--key", str(pki["key"])]) as c:
        yield c


def test_central_serves_https_and_a_caja_trusting_the_institutes_ca_talks_to_it(
    tls_central: CentralProcess, pki: dict[str, Path]
) -> None:
    assert tls_central.base_url.startswith("https://127.0.0.1:")
    with CentralClient(tls_central.base_url, "t", ca_bundle=str(pki["ca"])) as client:
        assert client.health().status == 200
        assert client.link.snapshot().online is True
    with pytest.raises(httpx.HTTPError):  # plain HTTP to the TLS port gets nowhere
        httpx.get(tls_central.base_url.replace("https", "http") + "/v1/health", timeout=5)


def test_an_untrusted_certificate_is_its_own_state_with_a_message_and_a_log_line(
    tls_central: CentralProcess, caplog: pytest.LogCaptureFixture
) -> None:
    # No ca_bundle: the system's store does not know the test CA.
    with CentralClient(tls_central.base_url, "t") as client, caplog.at_level(logging.WARNING):
        with pytest.raises(CertificateFailure) as failed:
            client.health()
        assert isinstance(failed.value, Offline)  # the outbox keeps retrying
        assert "certificado" in str(failed.value)
        assert "certificado" in client.link.snapshot().last_error
    assert any("certificado TLS rechazado" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    "url", ["http://central.isseg.gob.mx", "http://10.0.0.5:8765", "ftp://127.0.0.1"]
)
def test_a_plain_http_central_that_is_not_this_machine_is_refused_without_sending(url) -> None:
    def never(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"se envió {request.url}")

    client = CentralClient(url, "secreto", transport=httpx.MockTransport(never))
    with client, pytest.raises(InsecureCentral) as refused:
        client.health()
    assert "https://" in str(refused.value)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8765", "http://localhost:1", "http://[::1]:2"])
def test_loopback_may_be_plain_http(url: str) -> None:
    with CentralClient(url, "t", transport=httpx.MockTransport(lambda r: httpx.Response(200))) as c:
        assert c.health().status == 200
