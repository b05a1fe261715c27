"""A local SendGrid v3 Mail Send stand-in with a mailbox a person can read.

Point the real library at it with `SendGridAPIClient(api_key, host=url)`; it posts to
`{url}/v3/mail/send`. Endpoints:

    POST /v3/mail/send                      SendGrid's Mail Send: 202 + X-Message-Id, or errors
    POST /_control/faults {"count", "status"}  the next `count` sends fail with `status`
    POST /_control/hang {"count", "seconds"}   the next `count` sends hang, then are dropped
    GET  /_control/senders                  the verified Sender Identities
    POST /_control/senders {"email"}        verify one more ("@example.test" = a whole domain)
    POST /_control/reset                    forget messages and faults (senders stay as built)
    GET  /_mailbox.json                     captured messages, decoded, in arrival order
    GET  /_mailbox                          the same as an HTML page, newest first
    GET  /_mailbox/{id}/attachments/{n}     one attachment's decoded bytes

Validation follows SendGrid's published error table (sendgrid/docs,
source/API_Reference/Web_API_v3/Mail/errors.md, and its successor on twilio.com) and the wording
of real responses quoted in public issues: every problem is listed in one 400 body, each with the
field path such as `personalizations.0.to.0.email`. Where SendGrid is laxer than it should be the
stand-in is deliberately stricter, and says so at the check:
- a "," or ";" in a recipient name is accepted by SendGrid with 202 and the message is later
  dropped (sendgrid/sendgrid-python#291, sendgrid/sendgrid-php#351); here it is a 400 so the bug
  shows in tests instead of as a silently lost email;
- CR or LF in the subject, names or header values is refused (documented by SendGrid only for
  attachment fields and content types).

An address may appear once in the whole personalizations array (400, SendGrid's errors page), and
mail goes out only from a verified Sender Identity: any other `from` is 403 with SendGrid's body
(https://www.twilio.com/docs/sendgrid/ui/sending-email/sender-verification). The harness and the
local run register the product's MAIL_FROM; nothing is verified by default.
"""

from __future__ import annotations

import base64
import binascii
import html
import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from werkzeug.wrappers import Request, Response

MAX_REQUEST_BYTES = 30 * 1024 * 1024
MAX_PERSONALIZATIONS = 1000
MAX_RECIPIENTS = 1000
INVALID_KEY_MESSAGE = "The provided authorization grant is invalid, expired, or revoked"
_HELP = "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html#message."
_EMAIL = re.compile(
    r"[^@\s<>()\[\],;:\"\\]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
)
_RESERVED_HEADERS = {
    "x-sg-id", "x-sg-eid", "received", "dkim-signature", "content-type",
    "content-transfer-encoding", "to", "from", "subject", "reply-to", "cc", "bcc",
}  # fmt: skip
UNVERIFIED_SENDER_MESSAGE = (
    "The from address does not match a verified Sender Identity. Mail cannot be sent until this "
    "error is resolved. Visit https://sendgrid.com/docs/for-developers/sending-email/"
    "sender-identity/ to see the Sender Identity requirements"
)
DUPLICATE_ACROSS_MESSAGE = (
    "Each unique email address in the personalizations array should only be included once. "
    "You have included [{address}] more than once."
)
_FAULT_BODIES = {
    429: "too many requests",
    500: "internal server error",
    503: "service unavailable",
}


@dataclass(frozen=True)
class CapturedMessage:
    """One accepted Mail Send request, kept verbatim."""

    id: str
    received_at: str
    request: dict[str, Any]


def _error(message: str, field: str | None, help_anchor: str | None = None) -> dict[str, Any]:
    return {
        "message": message,
        "field": field,
        "help": _HELP + help_anchor if help_anchor else None,
    }


def _is_email(value: object) -> bool:
    return isinstance(value, str) and len(value) <= 320 and _EMAIL.fullmatch(value) is not None


def _has_crlf(value: object) -> bool:
    return isinstance(value, str) and ("\r" in value or "\n" in value)


def _decode_base64(value: str) -> bytes | None:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


def validate(body: object) -> list[dict[str, Any]]:
    """Every problem SendGrid would report for this Mail Send body, in field order; [] if valid."""
    if not isinstance(body, dict):
        return [_error("The request body must be a JSON object.", None)]
    errors: list[dict[str, Any]] = []
    errors += _check_from(body.get("from"))
    errors += _check_reply_to(body)
    errors += _check_personalizations(body.get("personalizations"))
    errors += _check_subject(body)
    errors += _check_content(body)
    errors += _check_attachments(body.get("attachments"))
    errors += _check_headers(body.get("headers"), "headers")
    errors += _check_categories(body.get("categories"))
    return errors


def _check_from(sender: object) -> list[dict[str, Any]]:
    if not isinstance(sender, dict) or not sender.get("email"):
        return [
            _error(
                "The from object must be provided for every email send. It is an object that "
                "requires the email parameter, but may also contain a name parameter.  e.g. "
                '{"email" : "example@example.com"}  or {"email" : "example@example.com", '
                '"name" : "Example Recipient"}.',
                "from.email",
                "from",
            )
        ]
    errors = []
    if not _is_email(sender["email"]):
        errors.append(
            _error("The from email does not contain a valid address.", "from.email", "from")
        )
    # Commas are fine in the from name (sendgrid/sendgrid-python#291); line breaks are not.
    if _has_crlf(sender.get("name")):
        errors.append(_error("The from name cannot contain CRLF characters.", "from.name"))
    return errors


def _check_reply_to(body: dict[str, Any]) -> list[dict[str, Any]]:
    reply_to = body.get("reply_to")
    if reply_to is None:
        return []
    if not isinstance(reply_to, dict) or not _is_email(reply_to.get("email")):
        return [
            _error(
                "The reply_to object, when used, must at least have an email parameter with a "
                "valid email address and it may also contain a name parameter.",
                "reply_to.email",
                "reply_to",
            )
        ]
    return []


def _check_personalizations(personalizations: object) -> list[dict[str, Any]]:
    if not isinstance(personalizations, list) or not personalizations:
        return [
            _error(
                "The personalizations field is required and must have at least one "
                "personalization.",
                "personalizations",
                "personalizations",
            )
        ]
    errors = []
    if len(personalizations) > MAX_PERSONALIZATIONS:
        errors.append(
            _error(
                "The personalization block is limited to 1000 personalizations per API request. "
                f"You have provided {len(personalizations)} personalizations. Please consider "
                "splitting this into multiple requests and resending your request.",
                "personalizations",
                "personalizations",
            )
        )
    total = 0
    everywhere: set[str] = set()  # addresses of earlier personalizations
    across_reported = False
    for i, p in enumerate(personalizations):
        where = f"personalizations.{i}"
        if not isinstance(p, dict):
            errors.append(_error("Each personalization must be an object.", where))
            continue
        to = p.get("to")
        if not isinstance(to, list) or not to:
            errors.append(
                _error(
                    "The to array is required for all personalization objects, and must have at "
                    "least one email object with a valid email address.",
                    f"{where}.to",
                    "personalizations.to",
                )
            )
        seen: set[str] = set()
        duplicate_reported = False
        for kind in ("to", "cc", "bcc"):
            recipients = p.get(kind)
            if recipients is None or (kind == "to" and not recipients):
                continue
            if not isinstance(recipients, list):
                errors.append(_error(f"The {kind} parameter must be an array.", f"{where}.{kind}"))
                continue
            total += len(recipients)
            for j, recipient in enumerate(recipients):
                errors += _check_recipient(recipient, f"{where}.{kind}.{j}", kind)
                address = recipient.get("email") if isinstance(recipient, dict) else None
                if not isinstance(address, str):
                    continue
                key = address.lower()
                if key in seen and not duplicate_reported:
                    duplicate_reported = True
                    errors.append(
                        _error(
                            "Each email address in the personalization block should be unique "
                            "between to, cc, and bcc. We found the first duplicate instance of "
                            f"[{address}] in the {where}.{kind} field.",
                            where,
                            "personalizations",
                        )
                    )
                if key in everywhere and key not in seen and not across_reported:
                    across_reported = True
                    errors.append(
                        _error(DUPLICATE_ACROSS_MESSAGE.format(address=address),
                               "personalizations", "personalizations")
                    )
                seen.add(key)
        everywhere |= seen
        subject = p.get("subject")
        if subject is not None:
            errors += _check_subject_value(subject, f"{where}.subject", "personalizations.subject")
        errors += _check_headers(p.get("headers"), f"{where}.headers")
    if total > MAX_RECIPIENTS:
        errors.append(
            _error(
                "There is a limit of 1000 total recipients (to + cc + bcc) per request.",
                "personalizations",
                "personalizations",
            )
        )
    return errors


def _check_recipient(recipient: object, where: str, kind: str) -> list[dict[str, Any]]:
    anchor = f"personalizations.{kind}"
    if not isinstance(recipient, dict) or not _is_email(recipient.get("email")):
        return [_error("Does not contain a valid address.", f"{where}.email", anchor)]
    name = recipient.get("name")
    if name is None:
        return []
    if not isinstance(name, str):
        return [_error("The name must be a string.", f"{where}.name", anchor)]
    if "," in name or ";" in name or _has_crlf(name):
        # SendGrid answers 202 and then drops the message; refused here so tests see it.
        return [
            _error(
                "Recipient names may not contain commas, semicolons or line breaks (SendGrid "
                "accepts them and then drops the message).",
                f"{where}.name",
                anchor,
            )
        ]
    return []


def _check_subject_value(subject: object, field: str, anchor: str) -> list[dict[str, Any]]:
    if not isinstance(subject, str) or not subject:
        return [
            _error(
                "The subject of your email must be a string at least one character in length.",
                field,
                anchor,
            )
        ]
    if _has_crlf(subject):
        return [_error("The subject cannot contain CRLF characters.", field, anchor)]
    return []


def _check_subject(body: dict[str, Any]) -> list[dict[str, Any]]:
    if "subject" in body:
        return _check_subject_value(body["subject"], "subject", "subject")
    personalizations = body.get("personalizations")
    every_has_one = isinstance(personalizations, list) and all(
        isinstance(p, dict) and "subject" in p for p in personalizations
    )
    if body.get("template_id") or every_has_one:
        return []
    return [
        _error(
            "The subject is required. You can get around this requirement if you use a template "
            "with a subject defined or if every personalization has a subject defined.",
            "subject",
            "subject",
        )
    ]


def _check_content(body: dict[str, Any]) -> list[dict[str, Any]]:
    content = body.get("content")
    if content is None and body.get("template_id"):
        return []
    if not isinstance(content, list) or not content:
        return [
            _error(
                "Unless a valid template_id is provided, the content parameter is required. "
                "There must be at least one defined content block. We typically suggest both "
                "text/plain and text/html blocks are included, but only one block is required.",
                "content",
                "content",
            )
        ]
    errors = []
    types: list[str] = []
    for i, block in enumerate(content):
        block = block if isinstance(block, dict) else {}
        kind = block.get("type")
        if not isinstance(kind, str) or not kind:
            errors.append(
                _error(
                    "Your content type must be a string with length of at least one character.",
                    f"content.{i}.type",
                    "content.type",
                )
            )
        elif ";" in kind or _has_crlf(kind):
            errors.append(
                _error(
                    "Cannot contain ';', or CRLF characters.", f"content.{i}.type", "content.type"
                )
            )
        else:
            types.append(kind.lower())
        value = block.get("value")
        if not isinstance(value, str) or not value:
            errors.append(
                _error(
                    "The content value must be a string at least one character in length.",
                    f"content.{i}.value",
                    "content.value",
                )
            )
    if types.count("text/plain") > 1 or types.count("text/html") > 1:
        errors.append(
            _error("If present, text/plain and text/html may only be provided once.", "content")
        )
    elif not _ordered_for_rfc1341(types):
        errors.append(
            _error(
                "Following RFC 1341, section 7.2, if either text/html or text/plain are to be "
                "sent in your email: text/plain needs to be first, followed by text/html, "
                "followed by any other content.",
                "content",
                "content.value",
            )
        )
    return errors


def _ordered_for_rfc1341(types: list[str]) -> bool:
    rank = {"text/plain": 0, "text/html": 1}
    ranks = [rank.get(t, 2) for t in types]
    return ranks == sorted(ranks)


def _check_attachments(attachments: object) -> list[dict[str, Any]]:
    if attachments is None:
        return []
    if not isinstance(attachments, list):
        return [_error("The attachments parameter must be an array.", "attachments")]
    errors = []
    for i, attachment in enumerate(attachments):
        where = f"attachments.{i}"
        attachment = attachment if isinstance(attachment, dict) else {}
        content = attachment.get("content")
        if not isinstance(content, str) or not content:
            errors.append(
                _error(
                    "The attachment content must be a string at least one character in length.",
                    f"{where}.content",
                    "attachments.content",
                )
            )
        elif _decode_base64(content) is None:
            errors.append(
                _error(
                    "The attachment content must be base64 encoded.",
                    f"{where}.content",
                    "attachments.content",
                )
            )
        filename = attachment.get("filename")
        if filename is None or filename == "":
            errors.append(
                _error("filename is required.", f"{where}.filename", "attachments.filename")
            )
        elif not isinstance(filename, str):
            errors.append(
                _error(
                    "The filename of your attachment must be a string.",
                    f"{where}.filename",
                    "attachments.filename",
                )
            )
        elif ";" in filename or "," in filename or _has_crlf(filename):
            errors.append(
                _error(
                    "The filename of your attachment cannot contain CRLF characters.",
                    f"{where}.filename",
                    "attachments.filename",
                )
            )
        kind = attachment.get("type")
        if kind is not None and (not isinstance(kind, str) or not kind):
            errors.append(
                _error(
                    "The attachment type must be a string and at least one character in length.",
                    f"{where}.type",
                    "attachments.type",
                )
            )
        elif isinstance(kind, str) and (";" in kind or _has_crlf(kind)):
            errors.append(
                _error(
                    "The type cannot contain ';', or CRLF characters.",
                    f"{where}.type",
                    "attachments.type",
                )
            )
        disposition = attachment.get("disposition", "attachment")
        if disposition not in ("attachment", "inline"):
            errors.append(
                _error(
                    'The disposition of your attachment can be either "inline" or "attachment". '
                    f"You provided {disposition}.",
                    f"{where}.disposition",
                    "attachments.disposition",
                )
            )
        content_id = attachment.get("content_id")
        if disposition == "inline" and not content_id:
            # SendGrid documents content_id as what an inline part is referenced by (cid:...);
            # the wording of this error is the stand-in's own.
            errors.append(
                _error(
                    "The content_id parameter is required when the disposition is inline.",
                    f"{where}.content_id",
                    "attachments.content_id",
                )
            )
        elif content_id is not None and (
            not isinstance(content_id, str)
            or ";" in content_id
            or "," in content_id
            or _has_crlf(content_id)
        ):
            errors.append(
                _error(
                    "The content ID of your attachment cannot contain CRLF characters.",
                    f"{where}.content_id",
                    "attachments.content_id",
                )
            )
    return errors


def _check_headers(headers: object, field: str) -> list[dict[str, Any]]:
    if headers is None:
        return []
    if not isinstance(headers, dict):
        return [_error("The headers must be an object.", field, "headers")]
    errors = []
    for key, value in headers.items():
        if key.lower() in _RESERVED_HEADERS:
            errors.append(_error("Header can not be one of the reserved keys.", field, "headers"))
        elif not isinstance(value, str):
            errors.append(_error("The header values must be strings.", field, "headers"))
        elif _has_crlf(value) or not key.isascii() or " " in key:
            errors.append(
                _error(
                    "Header keys cannot contain non-ASCII characters and empty spaces; values "
                    "cannot contain CRLF characters.",
                    field,
                    "headers",
                )
            )
    return errors


def _check_categories(categories: object) -> list[dict[str, Any]]:
    if categories is None:
        return []
    if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
        return [_error("Categories must be an array of strings.", "categories", "categories")]
    if len(categories) > 10:
        return [
            _error(
                "There is a limit of 10 categories for each email that is sent. You provided "
                f"{len(categories)} categories.",
                "categories",
                "categories",
            )
        ]
    return []


def decode(message: CapturedMessage) -> dict[str, Any]:
    """A captured request as a reader sees it; attachment `content` is the decoded bytes.

    Keys: id, received_at, from, from_name, reply_to, to, cc, bcc (every personalization's
    addresses in order), subject (the first personalization's, else the top-level one),
    personalizations (each with to, cc, bcc, subject), text, html, attachments (filename, type,
    disposition, content_id, content), categories, custom_args, headers, request (verbatim).
    """
    body = message.request
    top_subject = body.get("subject")
    personalizations = []
    for p in body["personalizations"]:
        personalizations.append(
            {
                "to": [r["email"] for r in p.get("to") or []],
                "cc": [r["email"] for r in p.get("cc") or []],
                "bcc": [r["email"] for r in p.get("bcc") or []],
                "subject": p.get("subject", top_subject),
                "custom_args": p.get("custom_args") or {},
            }
        )
    contents = {c["type"].lower(): c["value"] for c in body.get("content") or []}
    attachments = [
        {
            "filename": a["filename"],
            "type": a.get("type") or "application/octet-stream",
            "disposition": a.get("disposition", "attachment"),
            "content_id": a.get("content_id"),
            "content": base64.b64decode(a["content"]),
        }
        for a in body.get("attachments") or []
    ]
    reply_to = body.get("reply_to")
    return {
        "id": message.id,
        "received_at": message.received_at,
        "from": body["from"]["email"],
        "from_name": body["from"].get("name"),
        "reply_to": reply_to["email"] if reply_to else None,
        "to": [a for p in personalizations for a in p["to"]],
        "cc": [a for p in personalizations for a in p["cc"]],
        "bcc": [a for p in personalizations for a in p["bcc"]],
        "subject": personalizations[0]["subject"],
        "personalizations": personalizations,
        "text": contents.get("text/plain"),
        "html": contents.get("text/html"),
        "attachments": attachments,
        "categories": body.get("categories") or [],
        "custom_args": body.get("custom_args") or {},
        "headers": body.get("headers") or {},
        "request": body,
    }


class SendGridStandin:
    """SendGrid's Mail Send plus a mailbox, in memory and thread-safe; a WSGI app."""

    def __init__(
        self,
        api_key: str,
        max_request_bytes: int = MAX_REQUEST_BYTES,
        verified_senders: Iterable[str] = (),
    ) -> None:
        """`verified_senders`: addresses (or "@domain" for an authenticated domain) mail may
        come from; every other `from` is refused with 403, as SendGrid does."""
        self.api_key = api_key
        self.max_request_bytes = max_request_bytes
        self._built_senders = {s.lower() for s in verified_senders}
        self.verified_senders = set(self._built_senders)
        self._lock = threading.Lock()
        self._captured: list[CapturedMessage] = []
        self._faults: list[int] = []
        self._hangs: list[float] = []

    # --- helpers for tests -------------------------------------------------------------------

    def reset(self) -> None:
        with self._lock:
            self._captured.clear()
            self._faults.clear()
            self._hangs.clear()
            self.verified_senders = set(self._built_senders)

    def verify_sender(self, email: str) -> None:
        """Adds a verified Sender Identity (an address, or "@domain")."""
        with self._lock:
            self.verified_senders.add(email.lower())

    def is_verified(self, email: str) -> bool:
        address = email.lower()
        with self._lock:
            return address in self.verified_senders or (
                "@" + address.rpartition("@")[2] in self.verified_senders
            )

    def fail_next(self, count: int, status: int = 429) -> None:
        """The next `count` authorised sends answer `status` (429, 500, 503...) and are dropped."""
        if count < 0 or not 400 <= status <= 599:
            raise ValueError(
                f"fail_next needs count >= 0 and a 4xx/5xx status, got {count}, {status}"
            )
        with self._lock:
            self._faults = [status] * count

    def hang_next(self, count: int, seconds: float) -> None:
        """The next `count` authorised sends get no answer for `seconds`, then a 504, and are
        never accepted: SendGrid's edge stalling before Mail Send took the message (a client
        that gave up earlier never sees the 504). Acceptance after a stall is not modelled: that
        email would rightly go twice, the gap delivery documents."""
        if count < 0 or not 0 <= seconds <= 120:
            raise ValueError(f"hang_next needs count >= 0 and 0-120 seconds, got {count}, "
                             f"{seconds}")
        with self._lock:
            self._hangs = [float(seconds)] * count

    def captured(self) -> list[CapturedMessage]:
        with self._lock:
            return list(self._captured)

    def messages(self) -> list[dict[str, Any]]:
        """Accepted messages in arrival order, decoded (see `decode`)."""
        return [decode(m) for m in self.captured()]

    # --- WSGI ----------------------------------------------------------------------------------

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        request = Request(environ)
        response = self._route(request)
        return response(environ, start_response)

    def _route(self, request: Request) -> Response:
        path, method = request.path, request.method
        if path == "/v3/mail/send" and method == "POST":
            return self._send(request)
        if path == "/_control/faults" and method == "POST":
            return self._control_faults(request)
        if path == "/_control/hang" and method == "POST":
            return self._control_hang(request)
        if path == "/_control/senders" and method == "GET":
            with self._lock:
                return _json_response(200, sorted(self.verified_senders))
        if path == "/_control/senders" and method == "POST":
            try:
                email = json.loads(request.get_data() or b"{}")["email"]
            except (ValueError, KeyError, TypeError):
                email = None
            if not isinstance(email, str) or not (_EMAIL.fullmatch(email) or (
                email.startswith("@") and "." in email
            )):
                return _json_response(400, {"errors": [{"field": "email",
                                                        "message": "an address or @domain"}]})
            self.verify_sender(email)
            return _json_response(201, {"email": email.lower()})
        if path == "/_control/reset" and method == "POST":
            self.reset()
            return Response(status=204)
        if path == "/_mailbox.json" and method == "GET":
            return _json_response(200, [_jsonable(m) for m in self.messages()])
        if path in ("/_mailbox", "/_mailbox/") and method == "GET":
            return self._mailbox_page()
        match = re.fullmatch(r"/_mailbox/([^/]+)/attachments/(\d+)", path)
        if match and method == "GET":
            return self._attachment(match.group(1), int(match.group(2)))
        return _json_response(404, {"errors": [{"field": None, "message": "not found"}]})

    def _send(self, request: Request) -> Response:
        # Read the whole body first: answering before it is consumed makes the client see a reset
        # connection instead of the status.
        raw = request.get_data()
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return _json_response(401, {"errors": [_error(INVALID_KEY_MESSAGE, None)]})
        with self._lock:
            hang = self._hangs.pop(0) if self._hangs else None
        if hang is not None:
            time.sleep(hang)
            return _json_response(504, {"errors": [{"field": None, "message": "gateway timeout"}]})
        with self._lock:
            fault = self._faults.pop(0) if self._faults else None
        if fault is not None:
            message = _FAULT_BODIES.get(fault, "injected failure")
            headers = (
                {"X-RateLimit-Limit": "600", "X-RateLimit-Remaining": "0"} if fault == 429 else {}
            )
            return _json_response(fault, {"errors": [{"field": None, "message": message}]}, headers)
        if len(raw) > self.max_request_bytes:
            # SendGrid's status table: "The JSON payload you have included in your request is
            # too large." (its limit: the whole email under 30 MB).
            message = "The JSON payload you have included in your request is too large."
            return _json_response(413, {"errors": [_error(message, None)]})
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return _json_response(415, {"errors": [_error("Invalid UTF8 in request", None)]})
        try:
            body = json.loads(text)
        except ValueError:
            return _json_response(400, {"errors": [_error("Bad Request", None)]})
        errors = validate(body)
        if errors:
            return _json_response(400, {"errors": errors})
        if not self.is_verified(str(body["from"]["email"])):
            return _json_response(403, {"errors": [
                {"message": UNVERIFIED_SENDER_MESSAGE, "field": "from", "help": None}]})
        message_id = secrets.token_urlsafe(16)[:22]
        received_at = datetime.now(UTC).isoformat(timespec="microseconds")
        with self._lock:
            self._captured.append(CapturedMessage(message_id, received_at, body))
        return Response(b"", status=202, headers={"X-Message-Id": message_id})

    def _control_faults(self, request: Request) -> Response:
        try:
            body = json.loads(request.get_data() or b"{}")
            count, status = int(body["count"]), int(body.get("status", 429))
            self.fail_next(count, status)
        except (ValueError, KeyError, TypeError) as exc:
            return _json_response(400, {"errors": [{"field": None, "message": str(exc)}]})
        return _json_response(200, {"count": count, "status": status})

    def _control_hang(self, request: Request) -> Response:
        try:
            body = json.loads(request.get_data() or b"{}")
            count, seconds = int(body["count"]), float(body["seconds"])
            self.hang_next(count, seconds)
        except (ValueError, KeyError, TypeError) as exc:
            return _json_response(400, {"errors": [{"field": None, "message": str(exc)}]})
        return _json_response(200, {"count": count, "seconds": seconds})

    def _attachment(self, message_id: str, index: int) -> Response:
        found = [m for m in self.messages() if m["id"] == message_id]
        if not found or index >= len(found[0]["attachments"]):
            return _json_response(404, {"errors": [{"field": None, "message": "not found"}]})
        attachment = found[0]["attachments"][index]
        filename = quote(attachment["filename"], safe="")
        return Response(
            attachment["content"],
            status=200,
            headers={
                "Content-Type": attachment["type"],
                # Always a download, and never sniffed or run: an attachment of type text/html
                # must not execute in the mailbox's origin.
                "Content-Disposition": f"attachment; filename*=UTF-8''{filename}",
                "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": "sandbox",
            },
        )

    def _mailbox_page(self) -> Response:
        messages = list(reversed(self.messages()))
        cards = "\n".join(_render_message(m) for m in messages) or "<p>No messages yet.</p>"
        page = (
            '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            "<title>SendGrid stand-in mailbox</title><style>"
            "body{font-family:system-ui,sans-serif;margin:2rem;background:#f4f4f6}"
            "article{background:#fff;border:1px solid #ccc;border-radius:6px;padding:1rem;"
            "margin-bottom:1.5rem}"
            "h2{margin:0 0 .5rem}"
            "dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}"
            "dt{font-weight:600}iframe{width:100%;height:24rem;border:1px solid #ddd}"
            "pre{white-space:pre-wrap;background:#fafafa;padding:.5rem;border:1px solid #eee}"
            "</style></head><body>\n"
            f"<h1>Mailbox ({len(messages)} message{'s' if len(messages) != 1 else ''}, "
            "newest first)</h1>\n"
            f"{cards}\n</body></html>\n"
        )
        return Response(
            page,
            status=200,
            content_type="text/html; charset=utf-8",
            headers={
                # No script runs on this page or inside the emails; srcdoc frames inherit this.
                "Content-Security-Policy": (
                    "default-src 'none'; style-src 'unsafe-inline'; img-src * data:; "
                    "frame-src 'self'"
                ),
                "X-Content-Type-Options": "nosniff",
            },
        )


def _render_message(m: dict[str, Any]) -> str:
    e = html.escape
    sender = m["from"] if not m["from_name"] else f"{m['from_name']} <{m['from']}>"
    rows = [("From", sender), ("To", ", ".join(m["to"]))]
    if m["cc"]:
        rows.append(("Cc", ", ".join(m["cc"])))
    if m["bcc"]:
        rows.append(("Bcc", ", ".join(m["bcc"])))
    if m["reply_to"]:
        rows.append(("Reply-To", m["reply_to"]))
    rows += [("Received", m["received_at"]), ("Message id", m["id"])]
    details = "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in rows)
    parts = [
        f'<article id="message-{e(m["id"])}">',
        f"<h2>{e(m['subject'] or '(no subject)')}</h2>",
        f"<dl>{details}</dl>",
    ]
    if m["html"] is not None:
        # The HTML part runs in a sandboxed frame: no scripts, no same-origin access; the base
        # element makes its links open in a new tab (which the sandbox lets escape).
        document = '<base target="_blank">' + m["html"]
        parts.append(
            "<h3>HTML part</h3>"
            f'<iframe title="HTML part of {e(m["subject"] or "")}" '
            'sandbox="allow-popups allow-popups-to-escape-sandbox" '
            f'srcdoc="{e(document, quote=True)}"></iframe>'
        )
    if m["text"] is not None:
        parts.append(f"<h3>Text part</h3><pre>{e(m['text'])}</pre>")
    if m["attachments"]:
        links = "".join(
            f'<li><a href="/_mailbox/{quote(m["id"])}/attachments/{n}" '
            f'download="{e(a["filename"], quote=True)}">{e(a["filename"])}</a> '
            f"({e(a['type'])}, {len(a['content'])} bytes, {e(a['disposition'])})</li>"
            for n, a in enumerate(m["attachments"])
        )
        parts.append(f"<h3>Attachments</h3><ul>{links}</ul>")
    parts.append("</article>")
    return "\n".join(parts)


def _jsonable(message: dict[str, Any]) -> dict[str, Any]:
    out = dict(message)
    attachments = []
    for a in message["attachments"]:
        item = {k: v for k, v in a.items() if k != "content"}
        item["size"] = len(a["content"])
        item["content_base64"] = base64.b64encode(a["content"]).decode()
        try:
            item["content"] = a["content"].decode("utf-8")
        except UnicodeDecodeError:
            item["content"] = None
        attachments.append(item)
    out["attachments"] = attachments
    return out


def _json_response(status: int, body: object, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body), status=status, content_type="application/json", headers=headers or {}
    )
