"""Alert e-mail keeps its secrets: TLS verified (certificate and host name) before a login, never a password in clear."""

from __future__ import annotations

import datetime
import socket
import ssl
import subprocess
import sys

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from crawler.operations.alerts import AlertConfigError, send_email, smtp_settings
from tests.helpers import ROOT


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def certificate_for(name: str, folder) -> tuple[str, str]:
    """A self-signed certificate (and its key) for `name` only: files in `folder`."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return str(cert_file), str(key_file)


class Recorder:
    """Every login attempt and message the server saw."""

    def __init__(self) -> None:
        self.logins: list[tuple[bytes, bytes]] = []
        self.messages: list[bytes] = []

    def __call__(self, server, session, envelope, mechanism, auth_data) -> AuthResult:  # aiosmtpd's authenticator
        self.logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=True)

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd's name  # noqa: N802
        self.messages.append(envelope.content)
        return "250 OK"


@pytest.fixture
def smtp_with_a_certificate_for_another_name(tmp_path):
    cert, key = certificate_for("mail.other-name.test", tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    recorder = Recorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
                            authenticator=recorder, auth_require_tls=True)
    controller.start()
    yield port, cert, recorder
    controller.stop()


ALERT = {"PORTAL_ALERT_EMAIL_TO": "ops@example.org", "PORTAL_ALERT_SMTP_HOST": "127.0.0.1", "PORTAL_ALERT_SMTP_USER": "alertuser",
         "PORTAL_ALERT_SMTP_PASSWORD": "the-password"}


def test_a_server_whose_certificate_names_another_host_never_sees_the_password(smtp_with_a_certificate_for_another_name):
    port, cert, recorder = smtp_with_a_certificate_for_another_name
    # Trusted (its CA file given), but for another name: the host-name check alone must refuse it.
    settings = smtp_settings({**ALERT, "PORTAL_ALERT_SMTP_PORT": str(port), "PORTAL_ALERT_SMTP_STARTTLS": "1",
                              "PORTAL_ALERT_SMTP_CA_FILE": cert})
    with pytest.raises(ssl.SSLCertVerificationError, match=r"mismatch|match"):
        send_email(settings, "subject", "body")
    untrusted = smtp_settings({**ALERT, "PORTAL_ALERT_SMTP_PORT": str(port), "PORTAL_ALERT_SMTP_STARTTLS": "1"})
    with pytest.raises(ssl.SSLCertVerificationError):
        send_email(untrusted, "subject", "body")
    assert recorder.logins == [] and recorder.messages == []


def test_a_password_without_tls_is_refused_when_configured_in_one_line():
    with pytest.raises(AlertConfigError, match="without TLS"):
        smtp_settings({**ALERT, "PORTAL_ALERT_SMTP_PORT": "25"})
    with pytest.raises(AlertConfigError, match="choose one"):
        smtp_settings({**ALERT, "PORTAL_ALERT_SMTP_STARTTLS": "1", "PORTAL_ALERT_SMTP_SSL": "1"})
    assert smtp_settings({**ALERT, "PORTAL_ALERT_SMTP_SSL": "1"}).port == 465
    no_password = {k: v for k, v in ALERT.items() if k != "PORTAL_ALERT_SMTP_PASSWORD"}
    assert smtp_settings(no_password).tls == "none"  # a relay that takes no login may stay plain


def test_a_crawl_with_such_an_alert_configuration_does_not_start(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "PORTAL_DATA_DIR": str(tmp_path), **ALERT}
    done = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "thanhphohaiphong", "-a", "base_url=http://127.0.0.1:9"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1
    assert ("error: PORTAL_ALERT_SMTP_PASSWORD is set without TLS: set PORTAL_ALERT_SMTP_STARTTLS=1 "
            "or PORTAL_ALERT_SMTP_SSL=1 (a password is never sent in clear)") in done.stderr.splitlines()
    assert "Traceback" not in done.stderr and "Spider opened" not in done.stderr  # refused before anything ran
