"""An email we owe someone, rendered and ready to send: the unit the outbox stores."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Attachment:
    filename: str
    mime_type: str
    content: bytes


@dataclass(frozen=True)
class Email:
    to_email: str
    to_name: str
    subject: str
    text: str
    html: str
    attachments: tuple[Attachment, ...] = ()
    category: str = "booking"
    reply_to: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "to_email": self.to_email,
            "to_name": self.to_name,
            "subject": self.subject,
            "text": self.text,
            "html": self.html,
            "attachments": [
                {"filename": a.filename, "mime_type": a.mime_type,
                 "content": base64.b64encode(a.content).decode("ascii")}
                for a in self.attachments
            ],
            "category": self.category,
            "reply_to": self.reply_to,
            "headers": dict(self.headers),
        }

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Email:
        return Email(
            to_email=data["to_email"],
            to_name=data.get("to_name", ""),
            subject=data["subject"],
            text=data["text"],
            html=data["html"],
            attachments=tuple(
                Attachment(a["filename"], a["mime_type"], base64.b64decode(a["content"]))
                for a in data.get("attachments", [])
            ),
            category=data.get("category", "booking"),
            reply_to=data.get("reply_to"),
            headers=dict(data.get("headers", {})),
        )
