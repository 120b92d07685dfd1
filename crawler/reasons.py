"""Why an article is in `rejects`: the one set of reason codes that the spiders write, the store records,
the incremental state reads and the monitors count, and which of them the next run asks for again.

A reason is a code, sometimes with details after a colon (`offsite_redirect:http://127.0.0.2:8080`,
`fetch_failed: TimeoutError: …`); an article's QR image failing adds ` (its QR image)`. Only a
failure of the moment (an HTTP error status, a network fault) is asked for again by the next run:
a refused origin, a bound, a parse error are facts of the page, asked again only when it is listed anew.
"""

from __future__ import annotations

# Fetching: the next run asks again.
HTTP = "http"  # http_<status>
FETCH_FAILED = "fetch_failed"
# Fetching: facts of the page.
OFFSITE_REQUEST = "offsite_request"
OFFSITE_REDIRECT = "offsite_redirect"
TOO_LARGE = "too_large"
IMAGE_TOO_LARGE = "image_too_large"
QR_DECODE_TIMEOUT = "qr_decode_timeout"
PARSE_ERROR = "parse_error"
PIPELINE_ERROR = "pipeline_error"
# Validation (pipelines/validate.py).
MISSING_ID, MISSING_URL, MISSING_TITLE, MISSING_DATE = "missing_id", "missing_url", "missing_title", "missing_date"
FUTURE_DATE, DATE_TOO_OLD, FUTURE_MODIFIED_DATE = "future_date", "date_too_old", "future_modified_date"
EMPTY_BODY, SHORT_BODY, QR_UNREADABLE = "empty_body", "short_body", "qr_unreadable"

RETRIED_NEXT_RUN = (HTTP, FETCH_FAILED)


def http(status: int) -> str:
    return f"{HTTP}_{status}"


def fetch_failed(error_type: str, message: str) -> str:
    return f"{FETCH_FAILED}: {error_type}: {message}"


def offsite(origin: str, redirect: bool) -> str:
    return f"{OFFSITE_REDIRECT if redirect else OFFSITE_REQUEST}:{origin}"


def error(code: str, error_type: str) -> str:
    """`parse_error:RecursionError`, `pipeline_error:KeyError`."""
    return f"{code}:{error_type}"


def of_qr_image(reason: str) -> str:
    """The reason an article fails because of its QR image."""
    return f"{reason} (its QR image)"


def code_of(reason: str) -> str:
    """The code of a reason, without its details: what the stats count (`rejects/<code>`)."""
    code = reason.split(":", 1)[0].removesuffix(" (its QR image)")
    return HTTP if code.startswith(HTTP + "_") and code[len(HTTP) + 1:].isdigit() else code


def retried_next_run(reason: str) -> bool:
    """Whether an article that failed for this reason is asked for again by the next run."""
    return code_of(reason) in RETRIED_NEXT_RUN


# Failures of the network and of MongoDB, as an operator woken at night reads them (the alert's "cause in words"):
# markers of a failure's type or message, and their words; the first row with a marker in the text says it.
_IN_WORDS = (
    (("ConnectionRefusedError", "ERR_CONNECTION_REFUSED"), "connection refused"),
    (("TimeoutError", "TCPTimedOutError", "ERR_TIMED_OUT", "Timeout "), "timeout"),
    (("DNSLookupError", "ERR_NAME_NOT_RESOLVED"), "DNS lookup failed"),
    (("ResponseNeverReceived", "ConnectionLost", "ConnectionDone", "ERR_CONNECTION_RESET", "ERR_EMPTY_RESPONSE"), "connection lost"),
    (("SSLError", "ERR_CERT", "certificate verify failed"), "TLS certificate refused"),
    # pymongo says it in its message, not its type
    (("Connection refused",), "connection refused"),
    (("timed out",), "timeout"),
    (("Authentication failed",), "authentication failed"),
    (("Name or service not known",), "host name unknown"),
)


def failure_in_words(text: str) -> str | None:
    """A failure's text (its type and message) in a few words, or None when no marker says what it was."""
    for markers, words in _IN_WORDS:
        if any(marker in text for marker in markers):
            return words
    return None


def in_words(reason: str) -> str:
    """A failure reason as a person says it: `connection refused`, `timeout`, `HTTP 503`, `too large`…"""
    code = code_of(reason)
    if code == HTTP:
        return "HTTP " + reason.split(":", 1)[0].removeprefix(HTTP + "_")
    if code == FETCH_FAILED:
        return failure_in_words(reason) or "download failed: " + reason.split(":", 2)[1].strip()
    return code.replace("_", " ")
