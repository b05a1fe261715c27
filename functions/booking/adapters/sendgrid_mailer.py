"""SendGrid v3 Mail Send. Builds the request with the sendgrid helpers; errors become ours."""

from __future__ import annotations

import base64
import re

from booking import clients
from booking.config import get_settings
from booking.domain.email import Email
from booking.errors import PermanentError, TransientError

_NAME_UNSAFE = re.compile(r"[;,\r\n\"]")


def _safe_name(name: str) -> str:
    # SendGrid refuses ";" and "," in names; CR/LF would be header injection.
    return _NAME_UNSAFE.sub(" ", name).strip()


def send(email: Email, *, idempotency_key: str) -> str:
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
    try:
        resp = clients.sendgrid().send(message)
    except http_exc.HTTPError as exc:
        status = int(getattr(exc, "status_code", 0) or 0)
        if status == 429 or status >= 500:
            raise TransientError("sendgrid", f"send answered {status}", status) from exc
        raise PermanentError("sendgrid", f"send refused: {status}", status) from exc
    except OSError as exc:
        raise TransientError("sendgrid", f"unreachable: {type(exc).__name__}") from exc
    headers = getattr(resp, "headers", {}) or {}
    return str(headers.get("X-Message-Id", ""))
