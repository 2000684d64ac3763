"""The link to central is private (issue 13): terminals refuse a plain-HTTP central that is
not this machine, trust the institute's CA (``ca_bundle``) or the system's store, and report
a certificate they cannot trust as its own state; central serves HTTPS itself when given a
certificate and key. The CA is made here, for loopback, with ``cryptography``."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import logging
import re
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from central.embedded import CentralProcess
from kiosk import settings as settings_module
from kiosk.bootstrap import build
from kiosk.rules import Policy
from sync import diagnostics, enrollment
from sync.client import CentralClient, CertificateFailure, InsecureCentral, Offline
from sync.status import SyncEngine


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


# --- the till's trust in practice: enrolar, the alta screen's action, diagnostico, the sync
# engine and the heartbeat all trust ca_bundle (config.json or ISSEG_CA_BUNDLE), and a
# certificate they cannot trust is named as such (operator's findings 1 and 2).


def _code(tls_central: CentralProcess, capsys: pytest.CaptureFixture[str], name: str) -> str:
    from central import admin

    argv = ["codigo-de-alta", "--db", tls_central.db_url, "--tienda", "F900", "--nombre", name,
            "--nombre-tienda", "Farmacia TLS"]  # fmt: skip
    assert admin.main(argv) == 0
    found = re.search(r"\b([0-9A-Z]{5}-[0-9A-Z]{5})\b", capsys.readouterr().out)
    assert found
    return found.group(1)


def _till(tmp_path: Path, name: str, config: dict[str, object]) -> Path:
    data = tmp_path / name
    data.mkdir()
    (data / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return data


def test_a_till_trusting_ca_bundle_in_config_json_enrols_diagnoses_syncs_and_beats(
    tls_central: CentralProcess,
    pki: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = _till(tmp_path, "caja-json", {"ca_bundle": str(pki["ca"])})
    code = _code(tls_central, capsys, "Caja TLS 1")
    argv = ["--central", tls_central.base_url, "--codigo", code, "--datos", str(data)]
    assert enrollment.main(argv) == 0, capsys.readouterr().err
    assert "«Caja TLS 1»" in capsys.readouterr().out

    settings = settings_module.load({"ISSEG_DATA_DIR": str(data)})
    terminal = build(settings, start_sync=False)
    try:
        engine = terminal.sync
        assert isinstance(engine, SyncEngine)
        engine.refresher.refresh()  # the feed over TLS
        assert engine.heartbeat.send() is True  # the heartbeat over TLS
    finally:
        terminal.close()

    assert diagnostics.main(["--datos", str(data)]) == 0
    out = capsys.readouterr().out
    assert f"[ OK ] Central: {tls_central.base_url} responde (TLS verificado)" in out, out
    assert "[ OK ] Token: válido" in out


def test_isseg_ca_bundle_in_the_environment_is_trusted_by_enrolar_and_diagnostico(
    tls_central: CentralProcess,
    pki: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ISSEG_CA_BUNDLE", str(pki["ca"]))
    data = _till(tmp_path, "caja-env", {})
    code = _code(tls_central, capsys, "Caja TLS 2")
    argv = ["--central", tls_central.base_url, "--codigo", code, "--datos", str(data)]
    assert enrollment.main(argv) == 0, capsys.readouterr().err
    capsys.readouterr()
    assert diagnostics.main(["--datos", str(data)]) == 0
    assert "[ OK ] Central:" in capsys.readouterr().out


def test_the_alta_screens_action_trusts_ca_bundle(
    tls_central: CentralProcess,
    pki: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = _till(tmp_path, "caja-pantalla", {"ca_bundle": str(pki["ca"])})
    code = _code(tls_central, capsys, "Caja TLS 3")
    terminal = build(settings_module.load({"ISSEG_DATA_DIR": str(data)}), start_sync=False)
    try:
        done = terminal.enroll(tls_central.base_url, code)
        assert (done.store_id, done.name) == ("F900", "Caja TLS 3")
        assert terminal.central is not None
        assert terminal.central.policy()  # the re-pointed client talks to central over TLS
    finally:
        terminal.close()


def test_an_untrusted_certificate_is_named_and_logged_by_enrolar_and_diagnostico(
    tls_central: CentralProcess,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # No ca_bundle: the system's store does not know the test CA.
    data = _till(tmp_path, "caja-sin-ca", {})
    code = _code(tls_central, capsys, "Caja TLS 4")
    argv = ["--central", tls_central.base_url, "--codigo", code, "--datos", str(data)]
    with caplog.at_level(logging.WARNING):
        assert enrollment.main(argv) == 1
    err = capsys.readouterr().err
    assert "certificado de central" in err and "no es de confianza" in err, err
    assert "revise la dirección y la red" not in err
    assert not (data / "token").exists()
    assert any("certificado TLS" in r.getMessage() for r in caplog.records)

    caplog.clear()
    settings = settings_module.load({"ISSEG_DATA_DIR": str(data)})
    with caplog.at_level(logging.WARNING):
        checks = diagnostics.check_central(
            replace(settings, central_url=tls_central.base_url), Policy()
        )
    central = next(c for c in checks if c.name == "Central")
    assert not central.ok
    assert "certificado" in central.detail and "no es de confianza" in central.detail
    assert any("certificado TLS rechazado" in r.getMessage() for r in caplog.records)
