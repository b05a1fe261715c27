"""SendGrid v3 Mail Send. Builds the request with the sendgrid helpers; errors become ours.

Every send has a timeout that ends with the caller's deadline (the outbox row's lease, so a send
can never outlive it and race another worker's). 401 (a rotated key) and 403 (an unverified
sender) are configuration problems someone can fix: they are transient here, so the emails
wait for the fix instead of being dropped.
"""

from __future__ import annotations

import base64
import http.client
import re

from booking import clients
from booking.config import get_settings
from booking.deadline import Deadline
from booking.domain.email import Email
from booking.errors import PermanentError, TransientError

SEND_TIMEOUT = 10.0
CONFIG_STATUSES = frozenset({401, 403})
_NAME_UNSAFE = re.compile(r"[;,\r\n\"]")


def _safe_name(name: str) -> str:
    # SendGrid refuses ";" and "," in names; CR/LF would be header injection.
    return _NAME_UNSAFE.sub(" ", name).strip()


def send(email: Email, *, idempotency_key: str, deadline: Deadline | None = None) -> str:
    """Sends one email; returns SendGrid's message id. `idempotency_key` travels as a custom
    arg so a duplicate, should one ever slip through a crash, can be traced to its outbox row."""
    from python_http_client import exceptions as http_exc
    from sendgrid.helpers.mail import (
        Attachment,
        Category,
        Content,
        CustomArg,
        Disposition,
        FileContent,
        FileName,
        FileType,
        From,
        Mail,
        ReplyTo,
        To,
    )

    settings = get_settings()
    message = Mail(
        from_email=From(settings.need("mail_from"), _safe_name(settings.mail_from_name)),
        to_emails=To(email.to_email, _safe_name(email.to_name) or None),
        subject=email.subject,
    )
    message.add_content(Content("text/plain", email.text))
    message.add_content(Content("text/html", email.html))
    for att in email.attachments:
        message.add_attachment(
            Attachment(
                FileContent(base64.b64encode(att.content).decode("ascii")),
                FileName(att.filename),
                FileType(att.mime_type),
                Disposition("attachment"),
            )
        )
    message.add_category(Category(email.category))
    message.add_custom_arg(CustomArg("outbox_id", idempotency_key))
    if email.reply_to:
        message.reply_to = ReplyTo(email.reply_to)
    timeout = (deadline or Deadline.within(SEND_TIMEOUT)).timeout(SEND_TIMEOUT)
    try:
        resp = clients.sendgrid().client.mail.send.post(request_body=message.get(),
                                                        timeout=timeout)
    except http_exc.HTTPError as exc:
        status = int(getattr(exc, "status_code", 0) or 0)
        if status == 429 or status >= 500 or status in CONFIG_STATUSES:
            raise TransientError("sendgrid", f"send answered {status}", status) from exc
        raise PermanentError("sendgrid", f"send refused: {status}", status) from exc
    except (OSError, http.client.HTTPException) as exc:
        # Timeouts, resets, DNS: socket errors are OSError, a torn response an HTTPException.
        raise TransientError("sendgrid", f"unreachable: {type(exc).__name__}") from exc
    headers = getattr(resp, "headers", {}) or {}
    return str(headers.get("X-Message-Id", ""))
