"""Where failed monitors are told (Spidermon actions): the job log, e-mail over SMTP, a webhook.

E-mail and webhook are configured from the environment only (credentials never in the code):
`PORTAL_ALERT_EMAIL_TO` (comma-separated), `PORTAL_ALERT_EMAIL_FROM`, `PORTAL_ALERT_SMTP_HOST`,
`PORTAL_ALERT_SMTP_PORT`, `PORTAL_ALERT_SMTP_USER`, `PORTAL_ALERT_SMTP_PASSWORD`,
`PORTAL_ALERT_SMTP_STARTTLS`; `PORTAL_ALERT_WEBHOOK_URL`. An action that is not configured
is skipped. Spidermon's own `SendSmtpEmail` insists on a user and password and sends through
Twisted after the monitors return (the crawl may end first); this one sends with smtplib, then.
"""

from __future__ import annotations

import json
import logging
import os
import smtplib
import urllib.request
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
        from crawler.monitors import results_of  # the monitors module names these actions

        return results_of(self.result)["failed"]


class LogAlert(AlertAction):
    def run_action(self) -> None:
        subject, body = alert_text(self.data.run, self.failed())
        log.error("%s\n%s", subject, body)


class SendAlertEmail(AlertAction):
    def __init__(self, to: list[str], sender: str, host: str, port: int, user: str | None, password: str | None,
                 starttls: bool) -> None:
        super().__init__()
        self.to, self.sender, self.host, self.port = to, sender, host, port
        self.user, self.password, self.starttls = user, password, starttls

    @classmethod
    def from_crawler_kwargs(cls, crawler) -> dict:
        env = os.environ
        return {"to": [a.strip() for a in env.get("PORTAL_ALERT_EMAIL_TO", "").split(",") if a.strip()],
                "sender": env.get("PORTAL_ALERT_EMAIL_FROM", "haiphong-portal-crawler@localhost"),
                "host": env.get("PORTAL_ALERT_SMTP_HOST", ""), "port": int(env.get("PORTAL_ALERT_SMTP_PORT", "25")),
                "user": env.get("PORTAL_ALERT_SMTP_USER") or None, "password": env.get("PORTAL_ALERT_SMTP_PASSWORD") or None,
                "starttls": env.get("PORTAL_ALERT_SMTP_STARTTLS", "0") == "1"}

    def run_action(self) -> None:
        if not self.to or not self.host:
            raise SkipAction("no PORTAL_ALERT_EMAIL_TO or PORTAL_ALERT_SMTP_HOST")
        subject, body = alert_text(self.data.run, self.failed())
        message = EmailMessage()
        message["Subject"], message["From"], message["To"] = subject, self.sender, ", ".join(self.to)
        message.set_content(body)
        with smtplib.SMTP(self.host, self.port, timeout=30) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.user:
                smtp.login(self.user, self.password or "")
            smtp.send_message(message)
        log.info("alert e-mailed to %s", ", ".join(self.to))


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
