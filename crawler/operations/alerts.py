"""Every run that does not end cleanly is told to a person: the job log, e-mail over SMTP, a webhook.

A run that failed, was stopped, spilled its writes, found its portal unreachable, could not reach
MongoDB as it started, found its spider's lease held, or finished with a failed monitor gets one
alert (`run_alert`): the portal, the host, the cause in words, the counts that matter, the job's
log and what happens next. The first clean run after an alerted one sends a recovery message
(`recovery_alert`). The run recorder (`crawler.operations.runs`) decides and calls `deliver`; each
run's `alert` field in `crawl_runs` says what was sent.

E-mail and webhook are configured from the environment only (credentials never in the code):
`PORTAL_ALERT_EMAIL_TO` (comma-separated), `PORTAL_ALERT_EMAIL_FROM`, `PORTAL_ALERT_SMTP_HOST`,
`PORTAL_ALERT_SMTP_PORT`, `PORTAL_ALERT_SMTP_USER`, `PORTAL_ALERT_SMTP_PASSWORD`,
`PORTAL_ALERT_SMTP_STARTTLS` or `PORTAL_ALERT_SMTP_SSL` (SMTPS), `PORTAL_ALERT_SMTP_CA_FILE`;
`PORTAL_ALERT_WEBHOOK_URL`. A channel that is not configured is skipped. TLS always verifies
the server's certificate and host name (`ssl.create_default_context`, with the CA file if
given), and a password is never sent without TLS: such a configuration is refused when a crawl
starts (`smtp_settings`), with one line, not when an alert would go out. Spidermon's own
`SendSmtpEmail` insists on a user and password and sends through Twisted after the monitors
return (the crawl may end first), and only for failed monitors; this one sends with smtplib.
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
from typing import Any

from crawler.urls import redact

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Alert:
    """One message about a run: the same words go to the log, the e-mail and the webhook."""

    subject: str
    body: str
    payload: dict[str, Any]
    recovery: bool = False


# What happens next, by how the run ended: the line a person woken at night reads before deciding anything.
NEXT = {
    "mongo_unavailable": "Nothing was crawled. This run's record waits in the spill folder; once MongoDB answers, the next "
                         "run records it and crawls as usual. Check MongoDB first (systemctl status haiphong-mongodb).",
    "refused": "Nothing was crawled. If that job is alive, nothing needs doing; if it was killed, its lease lapses at the "
               "time above and the next scheduled run proceeds.",
    "spilled": "The next run replays the spilled writes before it crawls; or, once MongoDB is back: "
               "python -m crawler replay-spill --data-dir <the data folder above>.",
    "unreachable": "The next scheduled run tries again; the articles not fetched are asked for again then.",
    "shutdown": "The next run walks the categories this one left unfinished to their end.",
    "failed": "The next scheduled run tries again; read the log for the first error.",
    "monitors": "The run's data is stored; the failed monitors say what to look at (python -m crawler health).",
}


def causes_in_words(causes: list[dict]) -> str:
    """A run's failed requests by cause, as a person reads them: `connection refused ×4, HTTP 503 ×2`."""
    return ", ".join(f"{c['cause']} ×{c['count']}" for c in causes)


def _ending(run: dict) -> tuple[str, str, str]:
    """(why the run needs a person, in a few words for the subject; in full; the key of what happens next)."""
    state, reason, why = run.get("state"), run.get("finish_reason"), run.get("state_reason")
    if reason == "mongo_unavailable" and not run.get("counts", {}).get("requests"):
        return "MongoDB unreachable", f"MongoDB unreachable as the job started: {why}", "mongo_unavailable"
    if state == "refused":
        return "lease held by another job", f"another job of this spider holds its lease: {why}", "refused"
    if run.get("counts", {}).get("writes_spilled"):
        return "MongoDB went away, writes spilled", f"MongoDB went away during the run: {why}", "spilled"
    if run.get("unreachable"):
        said = causes_in_words(run.get("causes") or []) or why
        return f"portal unreachable ({said.split(' ×')[0]})", f"the portal at {run.get('portal')} could not be read: {said}", "unreachable"
    if state == "shutdown":
        return "stopped before the end", "stopped by a signal (SIGTERM or SIGINT) before the end", "shutdown"
    if state != "finished":
        return f"{state}: {why}", f"{state}: {why}", "failed"
    failed = run.get("monitors", {}).get("failed", [])
    return f"{len(failed)} monitor(s) failed", f"{len(failed)} monitor(s) failed: " + "; ".join(f["monitor"] for f in failed), "monitors"


def needs_alert(run: dict) -> bool:
    """Every run that did not end cleanly: not finished, or finished with a failed monitor."""
    return run.get("state") != "finished" or bool(run.get("monitors", {}).get("failed"))


def _run_lines(run: dict) -> list[str]:
    started = run.get("started_at")
    return [f"Portal: {run['spider']} ({run.get('portal') or 'its public origin'})",
            f"Run:    {run['_id']} ({run.get('kind') or 'crawl'}), started {started:%Y-%m-%d %H:%M} UTC" if started else
            f"Run:    {run['_id']}",
            f"Where:  host {run.get('host', '?')}, version {run.get('version') or '?'}, data folder {run.get('data_dir') or '?'}",
            f"Log:    {run.get('log_file') or 'the output of the command that ran it (no LOG_FILE)'}"]


def run_alert(run: dict) -> Alert:
    """The alert for a run that did not end cleanly: the portal, the host, the cause in words, the counts that matter,
    the log and what happens next."""
    short, cause, next_key = _ending(run)
    severity = {"finished": "WARNING", "refused": "REFUSED"}.get(run.get("state") or "", "FAILED")
    subject = f"[haiphong-portal-crawler] {severity} {run['spider']}: {short}"[:160]
    counts = run.get("counts", {})
    shown = {"articles stored new": counts.get("articles_new", 0), "changed": counts.get("articles_changed", 0),
             "rejected": counts.get("articles_rejected", 0), "fetches failed": counts.get("fetch_failures", 0),
             "listing pages read": counts.get("listing_pages", 0), "writes spilled": counts.get("writes_spilled", 0)}
    lines = [*_run_lines(run), f"State:  {run.get('state')} (exit status {run.get('exit_code')})", f"Cause:  {cause}"]
    if said := causes_in_words(run.get("causes") or []):
        lines.append(f"Failed requests by cause: {said}")
    lines.append("Counts: " + ", ".join(f"{k} {v}" for k, v in shown.items()))
    lines += [f"FAILED  {f['monitor']}\n        {f['message']}" for f in run.get("monitors", {}).get("failed", [])]
    lines += ["", f"Next:   {NEXT[next_key]}", "", "python -m crawler health  shows every spider's state."]
    payload = {"text": subject, "details": "\n".join(lines), "kind": "alert", "spider": run["spider"], "run_id": run["_id"],
               "state": run.get("state"), "cause": cause, "portal": run.get("portal"), "host": run.get("host"),
               "log_file": run.get("log_file"), "failed": run.get("monitors", {}).get("failed", []),
               "fill_drops": run.get("fill_drops", []), "counts": counts}
    return Alert(subject, "\n".join(lines), payload)


def recovery_alert(run: dict, alerted: dict) -> Alert:
    """The message after the first clean run that follows an alerted one."""
    _, cause, _ = _ending(alerted)
    subject = f"[haiphong-portal-crawler] RECOVERED {run['spider']}: a run finished cleanly"
    last = f"The last alert was for run {alerted['_id']} ({alerted['started_at']:%Y-%m-%d %H:%M} UTC): {cause}"
    lines = [*_run_lines(run), f"Stored {run.get('items', 0)} articles; no monitor failed.", "", last]
    payload = {"text": subject, "details": "\n".join(lines), "kind": "recovery", "spider": run["spider"], "run_id": run["_id"],
               "state": run.get("state"), "recovers": alerted["_id"], "portal": run.get("portal"), "host": run.get("host")}
    return Alert(subject, "\n".join(lines), payload, recovery=True)


def deliver(alert: Alert, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Tell a person: the log always, e-mail and webhook when configured. Never raises: a channel that fails is
    logged and said in the result (kept in crawl_runs), and the others are still tried."""
    env = os.environ if env is None else env
    (log.info if alert.recovery else log.error)("%s\n%s", alert.subject, alert.body)
    sent: dict[str, str] = {"log": "sent"}
    try:
        settings = smtp_settings(env)
        if settings.configured:
            send_email(settings, alert.subject, alert.body)
            sent["email"] = "sent to " + ", ".join(settings.to)
    except Exception as error:
        log.error("the alert could not be e-mailed: %s", redact(repr(error)))
        sent["email"] = f"failed: {redact(repr(error))[:200]}"
    url = env.get("PORTAL_ALERT_WEBHOOK_URL")
    if url:
        try:
            post_webhook(url, alert.payload)
            sent["webhook"] = "sent"
        except Exception as error:
            log.error("the alert could not be posted to the webhook: %s", redact(repr(error)))
            sent["webhook"] = f"failed: {redact(repr(error))[:200]}"
    return sent


def post_webhook(url: str, payload: dict[str, Any]) -> None:
    request = urllib.request.Request(url, data=json.dumps(payload, ensure_ascii=False, default=str).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=30) as answer:
        log.info("alert posted to the webhook (%s)", answer.status)


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
