"""Where failed monitors are told (Spidermon actions): the job log, e-mail over SMTP, a webhook.

E-mail and webhook are configured from the environment only (credentials never in the code):
`PORTAL_ALERT_EMAIL_TO` (comma-separated), `PORTAL_ALERT_EMAIL_FROM`, `PORTAL_ALERT_SMTP_HOST`,
`PORTAL_ALERT_SMTP_PORT`, `PORTAL_ALERT_SMTP_USER`, `PORTAL_ALERT_SMTP_PASSWORD`,
`PORTAL_ALERT_SMTP_STARTTLS` or `PORTAL_ALERT_SMTP_SSL` (SMTPS), `PORTAL_ALERT_SMTP_CA_FILE`;
`PORTAL_ALERT_WEBHOOK_URL`. An action that is not configured is skipped. TLS always verifies
the server's certificate and host name (`ssl.create_default_context`, with the CA file if
given), and a password is never sent without TLS: such a configuration is refused when a crawl
starts (`smtp_settings`), with one line, not when an alert would go out. Spidermon's own
`SendSmtpEmail` insists on a user and password and sends through Twisted after the monitors
return (the crawl may end first); this one sends with smtplib, then.
"""

from __future__ import annotations

import json
import logging
import os
import smtplib
import ssl
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage

from spidermon.core.actions import Action
from spidermon.exceptions import SkipAction

log = logging.getLogger(__name__)


def alert_text(run: dict, failed: list[dict]) -> tuple[str, str]:
    """(subject, body) of an alert: which portal, which run, what failed and why."""
    subject = f"[haiphong-portal-crawler] {run['spider']}: {len(failed)} monitor(s) failed"
    lines = [f"Run {run['_id']} of {run['spider']} ({run['kind']}, {run['state']}), started {run['started_at']:%Y-%m-%d %H:%M} UTC.", ""]
    lines += [f"FAILED  {f['monitor']}\n        {f['message']}" for f in failed]
    lines += ["", f"Stored {run['items']} articles; counts: " + ", ".join(f"{k} {v}" for k, v in run["counts"].items() if v), "",
              "python -m crawler health  shows every spider's state."]
    return subject, "\n".join(lines)


class AlertAction(Action):
    """A failed-monitors action that knows the run (set by the run recorder in the monitors' data)."""

    def failed(self) -> list[dict]:
        from crawler.operations.monitors import results_of  # the monitors module names these actions

        return results_of(self.result)["failed"]


class LogAlert(AlertAction):
    def run_action(self) -> None:
        subject, body = alert_text(self.data.run, self.failed())
        log.error("%s\n%s", subject, body)


class AlertConfigError(ValueError):
    """An alert configuration that would fail or leak when used: refused when a crawl starts."""


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how alert e-mails go, read from the environment once."""

    to: tuple[str, ...] = ()
    sender: str = "haiphong-portal-crawler@localhost"
    host: str = ""
    port: int = 25
    user: str | None = None
    password: str | None = None
    tls: str = "none"  # "starttls", "smtps" or "none"
    ca_file: str | None = None

    @property
    def configured(self) -> bool:
        return bool(self.to and self.host)

    def tls_context(self) -> ssl.SSLContext:
        """Certificate and host-name verification, always; against the CA file when one is given."""
        return ssl.create_default_context(cafile=self.ca_file)


def smtp_settings(env: Mapping[str, str] | None = None) -> SmtpSettings:
    """The alert e-mail settings from the environment; raises AlertConfigError (one line) for one that cannot be used safely."""
    env = os.environ if env is None else env
    starttls, smtps = env.get("PORTAL_ALERT_SMTP_STARTTLS", "0") == "1", env.get("PORTAL_ALERT_SMTP_SSL", "0") == "1"
    if starttls and smtps:
        raise AlertConfigError("PORTAL_ALERT_SMTP_STARTTLS and PORTAL_ALERT_SMTP_SSL are both set: choose one")
    tls = "starttls" if starttls else "smtps" if smtps else "none"
    try:
        port = int(env.get("PORTAL_ALERT_SMTP_PORT") or (465 if smtps else 587 if starttls else 25))
    except ValueError:
        raise AlertConfigError(f"PORTAL_ALERT_SMTP_PORT must be a port number, not {env.get('PORTAL_ALERT_SMTP_PORT')!r}") from None
    settings = SmtpSettings(
        to=tuple(a.strip() for a in env.get("PORTAL_ALERT_EMAIL_TO", "").split(",") if a.strip()),
        sender=env.get("PORTAL_ALERT_EMAIL_FROM") or SmtpSettings.sender, host=env.get("PORTAL_ALERT_SMTP_HOST", ""), port=port,
        user=env.get("PORTAL_ALERT_SMTP_USER") or None, password=env.get("PORTAL_ALERT_SMTP_PASSWORD") or None, tls=tls,
        ca_file=env.get("PORTAL_ALERT_SMTP_CA_FILE") or None)
    if settings.password and settings.tls == "none":
        raise AlertConfigError("PORTAL_ALERT_SMTP_PASSWORD is set without TLS: set PORTAL_ALERT_SMTP_STARTTLS=1 or "
                               "PORTAL_ALERT_SMTP_SSL=1 (a password is never sent in clear)")
    if settings.ca_file and not os.path.isfile(settings.ca_file):
        raise AlertConfigError(f"PORTAL_ALERT_SMTP_CA_FILE {settings.ca_file!r} is not a readable file")
    return settings


def send_email(settings: SmtpSettings, subject: str, body: str) -> None:
    """One e-mail through the configured server: TLS verified before any login, never a password in clear."""
    message = EmailMessage()
    message["Subject"], message["From"], message["To"] = subject, settings.sender, ", ".join(settings.to)
    message.set_content(body)
    if settings.tls == "smtps":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.port, timeout=30, context=settings.tls_context())
    else:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=30)
    with smtp:
        if settings.tls == "starttls":
            smtp.starttls(context=settings.tls_context())
        if settings.user:
            if settings.tls == "none":  # smtp_settings refuses this; a second guard where the password would leave
                raise AlertConfigError("refusing to log in to SMTP without TLS")
            smtp.login(settings.user, settings.password or "")
        smtp.send_message(message)


class SendAlertEmail(AlertAction):
    def __init__(self, settings: SmtpSettings) -> None:
        super().__init__()
        self.settings = settings

    @classmethod
    def from_crawler_kwargs(cls, crawler) -> dict:
        return {"settings": smtp_settings()}

    def run_action(self) -> None:
        if not self.settings.configured:
            raise SkipAction("no PORTAL_ALERT_EMAIL_TO or PORTAL_ALERT_SMTP_HOST")
        subject, body = alert_text(self.data.run, self.failed())
        send_email(self.settings, subject, body)
        log.info("alert e-mailed to %s", ", ".join(self.settings.to))


class PostAlertWebhook(AlertAction):
    def __init__(self, url: str | None) -> None:
        super().__init__()
        self.url = url

    @classmethod
    def from_crawler_kwargs(cls, crawler) -> dict:
        return {"url": os.environ.get("PORTAL_ALERT_WEBHOOK_URL")}

    def run_action(self) -> None:
        if not self.url:
            raise SkipAction("no PORTAL_ALERT_WEBHOOK_URL")
        run = self.data.run
        subject, body = alert_text(run, self.failed())
        payload = {"text": subject, "details": body, "spider": run["spider"], "run_id": run["_id"], "state": run["state"],
                   "failed": self.failed(), "fill_drops": run.get("fill_drops", [])}
        request = urllib.request.Request(self.url, data=json.dumps(payload, ensure_ascii=False, default=str).encode(),
                                         headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(request, timeout=30) as answer:
            log.info("alert posted to the webhook (%s)", answer.status)
