"""Calls into Google for one connection, with the owner told once when the grant is dead.

Every service that talks to Google goes through `use`, so a revoked grant is noticed wherever it
shows first (availability, booking, a calendar refresh) and handled the same way: the connection
is marked needs_reconnect, the owner gets one email, and the caller gets Unavailable, never a
silent gap. Unavailable names the account only when the owner asked: guests see it on public
pages, and which Google accounts an owner connected is the owner's business.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from booking import log
from booking.adapters import firestore_owners as store
from booking.config import get_settings
from booking.domain.email import Email
from booking.domain.model import Connection, Owner
from booking.domain.problems import Problem
from booking.errors import ExternalError, ReauthRequired, Unavailable
from booking.i18n import t
from booking.rendering import render, render_text

T = TypeVar("T")


def _reconnect(conn: Connection, owner_asks: bool) -> Problem:
    if not owner_asks:
        return Problem("google.reconnect.public", "a connected Google account needs to be "
                       "reconnected; please try again later")
    return Problem("google.reconnect", "the Google account %(account)s needs to be reconnected",
                   account=conn.email)


def _no_answer(conn: Connection, owner_asks: bool) -> Problem:
    if not owner_asks:
        return Problem("google.no_answer.public", "Google did not answer; please try again")
    return Problem("google.no_answer", "Google did not answer for %(account)s; please try again",
                   account=conn.email)


def use(owner: Owner, conn: Connection, action: Callable[[Connection], T], now: datetime,
        *, owner_asks: bool = False) -> T:
    """`owner_asks`: the answer goes to the signed-in owner, so it may name the account."""
    if not conn.healthy:
        raise Unavailable(_reconnect(conn, owner_asks))
    try:
        return action(conn)
    except ReauthRequired as exc:
        reconnect_needed(owner, conn, now)
        raise Unavailable(_reconnect(conn, owner_asks)) from exc
    except ExternalError as exc:
        log.warning("google call failed", owner=owner.id, connection=conn.id, error=str(exc))
        raise Unavailable(_no_answer(conn, owner_asks)) from exc


def reconnect_needed(owner: Owner, conn: Connection, now: datetime) -> None:
    """Marks the connection and emails the owner, once per broken grant."""
    from booking.services import outbox

    log.warning("google grant revoked or expired", owner=owner.id, connection=conn.id)
    if not store.mark_needs_reconnect(owner.id, conn.id, conn.token_version):
        return
    link = get_settings().function_url("owner") + "/integrations"
    subject = t(owner.language, "Reconnect your Google account %(account)s", account=conn.email)
    context = {"owner": owner, "account": conn.email, "link": link, "subject": subject}
    email = Email(
        to_email=owner.email,
        to_name=owner.name,
        subject=subject,
        text=render_text("email/reconnect.txt", owner.language, **context),
        html=render("email/reconnect.html", owner.language, **context),
        category="reconnect",
    )
    outbox.owe_email(f"reconnect:{owner.id}:{conn.id}:{conn.token_version}", owner.id, email, now)
