"""Firestore: bookings and the per-day ledger that makes claims atomic.

    owners/{owner_id}/bookings/{booking_id}   the booking (guest, times, status, Google ids)
    owners/{owner_id}/ledger/{YYYY-MM-DD}     entries: {booking_id: {start, end, buffers, day,
                                                                 event_type, group_id?}}
    owners/{owner_id}/ledger/{slug}@{YYYY-MM} the same entries, of one event type's month

A booking's entry also goes to its event type's month document. A claim whose event type has
weekly or monthly limits reads the month documents its week and month touch, under the same
condition as the days; any other claim adds its entry there unconditionally (a merge of one
field), so bookings without such limits never wait on each other's month.

A booking's entry is written to the ledger of the owner day it starts on and of both
neighbours. Two bookings that could clash start at most a day apart, so they always share a
ledger document. A claim reads its three ledger documents, decides, and commits one batch that
creates the booking and writes all three documents on the condition that none changed since
it read them (their update times). Of two overlapping claims exactly one commits; the other
re-reads, now sees the winner, and is refused.

This is optimistic on purpose: a transaction's read locks make fifty simultaneous claims on one
day wait on each other until they time out, while preconditions let the first commit win at
once.

    owners/{owner_id}/guests/{guest_key}      entries: {booking_id: {start, hold_until}}

A guest's open bookings with the owner (booking.domain.holds): a claim reads this document
with its ledger documents and writes it under the same condition, so the cap on a guest's open
bookings cannot be raced; every change of a booking brings its entry up to date (a cancelled
one leaves). A pending hold's entries carry `hold_until` and count for nobody once it passed.
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from booking import clients
from booking.domain import holds
from booking.domain.availability import Booked
from booking.domain.intervals import Interval
from booking.errors import Contention, DocumentMissing

ATTEMPTS = 30
WRITTEN = "_written"  # see claim


def tally_key(event_type: str, day: date) -> str:
    """The document that holds an event type's bookings of one owner month (for its weekly and
    monthly limits), in the ledger collection beside the days: ``intro@2026-12``."""
    return f"{event_type}@{day:%Y-%m}"


class _Delete:
    """Stands for Firestore's DELETE_FIELD in a Transition without importing the SDK there."""


DELETE_FIELD = _Delete()


def _owner(owner_id: str) -> Any:
    return clients.firestore().collection("owners").document(owner_id)


def _col(owner_id: str) -> Any:
    return _owner(owner_id).collection("bookings")


def _ledger(owner_id: str, day: str) -> Any:
    return _owner(owner_id).collection("ledger").document(day)


def _guest(owner_id: str, email: str) -> Any:
    return _owner(owner_id).collection("guests").document(holds.guest_key(email))


def entry_of(doc: dict[str, Any]) -> dict[str, Any]:
    entry = {"start": doc["start"], "end": doc["end"],
             "buffer_before_minutes": int(doc.get("buffer_before_minutes", 0)),
             "buffer_after_minutes": int(doc.get("buffer_after_minutes", 0)),
             "day": doc.get("ledger_day"), "event_type": doc.get("event_type")}
    if doc.get("hold_until") is not None:
        entry["hold_until"] = doc["hold_until"]
    if doc.get("group_id"):
        entry["group_id"] = doc["group_id"]
    return entry


def booked_of(entry: dict[str, Any]) -> Booked:
    return Booked(Interval(entry["start"], entry["end"]),
                  buffer_before=timedelta(minutes=int(entry["buffer_before_minutes"])),
                  buffer_after=timedelta(minutes=int(entry["buffer_after_minutes"])),
                  group=entry.get("group_id"))


@dataclass
class Ledger:
    """The bookings the read ledger documents hold, by booking id, as of `now` (a hold that
    lapsed is not there), and the guest's open bookings when the claim read them."""

    now: datetime
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    snapshots: dict[str, Any] = field(default_factory=dict)  # day -> snapshot read
    guest: dict[str, dict[str, Any]] = field(default_factory=dict)
    guest_snapshot: Any = None  # the guest's document as read_ledger read it

    def _live(self, exclude: str | None) -> list[dict[str, Any]]:
        return [e for bid, e in self.entries.items()
                if bid != exclude and holds.live(e, self.now)]

    def booked(self, exclude: str | None = None) -> list[Booked]:
        return [booked_of(e) for e in self._live(exclude)]

    def counted(self, event_type: str, exclude: str | None = None) -> list[Booked]:
        """Every booking read, marked as counting toward `event_type`'s own limits or not.
        Entries written before they named their event type count for every type: a limit may
        then refuse a booking it should not, but never lets one too many through."""
        return [replace(booked_of(e), counts_toward_limit=e.get("event_type") in (None, event_type))
                for e in self._live(exclude)]

    def guest_open(self) -> int:
        """The guest's upcoming bookings with this owner, held or confirmed."""
        return holds.open_count(self.guest, self.now)


@dataclass(frozen=True)
class Transition:
    """What a change of a booking writes, in one conditional batch."""

    fields: dict[str, Any]
    remove: tuple[str, ...] = ()  # ledger days to take this booking out of
    add: tuple[str, ...] = ()  # ledger days to put it in (with its times from `fields`)
    outbox_rows: tuple[tuple[str, dict[str, Any]], ...] = ()


def _read_ledger(owner_id: str, days: Sequence[str], now: datetime, guest: Any = None,
                 booking: Any = None) -> tuple[Ledger, Any, Any]:
    """The ledger of `days` and, in the same read, the `guest` and `booking` documents (their
    snapshots; None when not asked)."""
    db = clients.firestore()
    refs = [_ledger(owner_id, d) for d in days]
    ledger = Ledger(now)
    others = {ref.path: ref for ref in (guest, booking) if ref is not None}
    found: dict[str, Any] = {}
    for snap in db.get_all([*refs, *others.values()]):
        if snap.reference.path in others:
            found[snap.reference.path] = snap
            continue
        ledger.snapshots[snap.id] = snap
        if snap.exists:
            ledger.entries.update((snap.to_dict() or {}).get("entries") or {})
    return (ledger, found.get(guest.path) if guest is not None else None,
            found.get(booking.path) if booking is not None else None)


def read_ledger(owner_id: str, days: Sequence[str], now: datetime, email: str) -> Ledger:
    """The ledger of `days` and the guest's open bookings as they are now: for a claim to
    start from (see claim)."""
    from booking import fanout

    # The guest's bookings are asked at once, in case their document is not complete yet (a
    # new guest's is not there at all): one wait, not two.
    reads: list[Callable[[], Any]] = [
        functools.partial(_read_ledger, owner_id, days, now, _guest(owner_id, email)),
        functools.partial(_guest_bookings, owner_id, email, now)]
    (read, guest_snap, _), queried = fanout.run_all(reads)
    ledger: Ledger = read
    ledger.guest = _guest_entries(owner_id, email, guest_snap, now, queried)
    ledger.guest_snapshot = guest_snap
    return ledger


def _write_ledger(batch: Any, owner_id: str, ledger: Ledger, booking_id: str,
                  remove: Sequence[str], add: Sequence[str], entry: dict[str, Any] | None) -> None:
    """Every read ledger document is written under its precondition, touched or not, so a
    concurrent change to any of them fails this commit."""
    from google.cloud import firestore as fs

    db = clients.firestore()
    for day, snap in ledger.snapshots.items():
        ref = _ledger(owner_id, day)
        change: dict[str, Any] = {"touched": fs.SERVER_TIMESTAMP}
        # Lapsed holds leave as writers pass (they already count for nobody).
        lapsed = [bid for bid, e in ((snap.to_dict() or {}).get("entries") or {}).items()
                  if not holds.live(e, ledger.now)] if snap.exists else []
        change.update({f"entries.{bid}": fs.DELETE_FIELD for bid in lapsed if bid != booking_id})
        if day in add and entry is not None:
            change[f"entries.{booking_id}"] = entry
        elif day in remove:
            change[f"entries.{booking_id}"] = fs.DELETE_FIELD
        if snap.exists:
            batch.update(ref, change, option=db.write_option(last_update_time=snap.update_time))
        else:
            created: dict[str, Any] = {"touched": fs.SERVER_TIMESTAMP, "entries": {}}
            if day in add and entry is not None:
                created["entries"] = {booking_id: entry}
            batch.create(ref, created)


def _committed(batch: Any, attempt: int) -> bool:
    """Commits; False (after a short, jittered pause) when another writer got there first and
    a precondition or a create failed, so the caller re-reads and decides again."""
    from google.api_core import exceptions as gexc

    try:
        batch.commit()
    except (gexc.FailedPrecondition, gexc.AlreadyExists, gexc.Conflict, gexc.Aborted,
            gexc.NotFound):
        time.sleep(random.uniform(0, min(0.5, 0.01 * 2 ** attempt)))
        return False
    return True


def _guest_entries(owner_id: str, email: str, snap: Any, now: datetime,
                   queried: dict[str, Any] | None = None) -> dict[str, Any]:
    """The guest's open bookings from their document; a document not yet kept by every claim
    (bookings made before it existed) is filled from the bookings themselves (`queried`, if
    the caller asked already)."""
    data = (snap.to_dict() or {}) if snap.exists else {}
    entries = dict(data.get("entries") or {})
    if not data.get("complete"):
        entries.update(_guest_bookings(owner_id, email, now) if queried is None else queried)
    return entries


def _guest_bookings(owner_id: str, email: str, now: datetime) -> dict[str, Any]:
    from google.cloud.firestore import FieldFilter

    query = _col(owner_id).where(filter=FieldFilter("guest.email", "==", email))
    found: dict[str, Any] = {}
    for d in query.stream():
        entry = holds.guest_entry(d.to_dict() or {})
        if entry is not None and entry["start"] > now:
            found[d.id] = entry
    return found


def _write_guest(batch: Any, ref: Any, snap: Any, entries: dict[str, Any], booking_id: str,
                 entry: dict[str, Any], now: datetime) -> None:
    """The guest's document with this booking in, under the condition it did not change since
    the claim read it; started bookings and lapsed holds leave as the claim passes."""
    from google.cloud import firestore as fs

    db = clients.firestore()
    kept = {bid: e for bid, e in entries.items() if bid not in holds.stale(entries, now)}
    body = {"entries": {**kept, booking_id: entry}, "complete": True,
            "touched": fs.SERVER_TIMESTAMP}
    if snap.exists:
        # An update replaces the whole `entries` map, under the condition.
        batch.update(ref, body, option=db.write_option(last_update_time=snap.update_time))
    else:
        batch.create(ref, body)


def claim(owner_id: str, booking_id: str, doc: dict[str, Any], days: Sequence[str],
          decide: Callable[[Ledger], dict[str, Any] | None],
          outbox_rows: Sequence[tuple[str, dict[str, Any]]] | Callable[
              [dict[str, Any]], Sequence[tuple[str, dict[str, Any]]]],
          also: Sequence[str] = (), watch: Sequence[str] = (), *,
          now: datetime, ledger: Ledger | None = None) -> tuple[dict[str, Any], bool]:
    """Creates the booking, its ledger entries and its outbox rows at once, after `decide` saw
    the ledger of `days` and `watch` and the guest's open bookings (`Ledger.guest`) and did
    not raise, on the condition that none of those changed meanwhile. `decide` may return
    fields it settled for the booking (the group slot a seat joins); `outbox_rows` may then be
    made from the booking as it is written. The entry goes to each of `days` and, without a
    condition, to `also`. An existing booking with this id (the same idempotency key) is
    returned as it is: (booking, created). A booking created here carries the commit's time
    under WRITTEN (not a field of the booking: pop it).

    `ledger`, read earlier beside other reads (read_ledger, same days and guest), is decided
    on first, without a read: the commit's conditions are its documents' update times, so if
    any changed since, the commit fails and the claim reads again (booking, ledger and guest
    in one request)."""
    from google.cloud import firestore as fs

    db = clients.firestore()
    booking_ref = _col(owner_id).document(booking_id)
    email = doc["guest"]["email"]
    guest_ref = _guest(owner_id, email)
    outbox = db.collection("outbox")
    for attempt in range(ATTEMPTS):
        if attempt or ledger is None:
            ledger, guest_snap, existing = _read_ledger(owner_id, [*days, *watch], now,
                                                        guest_ref, booking_ref)
            if existing.exists:
                return {"id": existing.id, **existing.to_dict()}, False
            ledger.guest = _guest_entries(owner_id, email, guest_snap, now)
        else:
            guest_snap = ledger.guest_snapshot
        written = {**doc, **(decide(ledger) or {})}
        batch = db.batch()
        batch.create(booking_ref, written)
        _write_ledger(batch, owner_id, ledger, booking_id, (), days, entry_of(written))
        _write_guest(batch, guest_ref, guest_snap, ledger.guest, booking_id,
                     holds.guest_entry(written) or {}, now)
        for key in also:
            batch.set(_ledger(owner_id, key), {"touched": fs.SERVER_TIMESTAMP,
                                               "entries": {booking_id: entry_of(written)}},
                      merge=True)
        rows = outbox_rows(written) if callable(outbox_rows) else outbox_rows
        for row_id, row in rows:
            batch.create(outbox.document(row_id), row)
        if not _committed(batch, attempt):
            continue
        # Every document of the commit was written at its time: the outbox rows' lease holder
        # needs it (firestore_outbox.WRITTEN).
        return {"id": booking_id, **written, WRITTEN: batch.commit_time}, True
    raise Contention("booking", "too many bookings at once")


def transition(owner_id: str, booking_id: str, days: Callable[[dict[str, Any]], Sequence[str]],
               decide: Callable[[dict[str, Any], Ledger], Transition], *,
               now: datetime) -> dict[str, Any]:
    """Reads the booking and the ledger of `days(booking)`, lets `decide` raise or say what to
    write, and writes it on the condition that neither changed; returns the booking after. The
    guest's document follows the booking (a cancelled one leaves it) without a condition: only
    a claim decides on it, and this write makes a claim reading it meanwhile decide again."""
    from google.cloud import firestore as fs

    db = clients.firestore()
    booking_ref = _col(owner_id).document(booking_id)
    outbox = db.collection("outbox")
    for attempt in range(ATTEMPTS):
        snap = booking_ref.get()
        if not snap.exists:
            raise DocumentMissing("booking", booking_id)
        booking = {"id": snap.id, **snap.to_dict()}
        ledger, _, _ = _read_ledger(owner_id, days(booking), now)
        change = decide(booking, ledger)
        after = {k: v for k, v in {**booking, **change.fields}.items() if v is not DELETE_FIELD}
        fields = {k: fs.DELETE_FIELD if v is DELETE_FIELD else v
                  for k, v in change.fields.items()}
        batch = db.batch()
        batch.update(booking_ref, fields,
                     option=db.write_option(last_update_time=snap.update_time))
        _write_ledger(batch, owner_id, ledger, booking_id, change.remove, change.add,
                      entry_of(after))
        batch.set(_guest(owner_id, after["guest"]["email"]),
                  {"entries": {booking_id: holds.guest_entry(after) or fs.DELETE_FIELD},
                   "touched": fs.SERVER_TIMESTAMP}, merge=True)
        for row_id, row in change.outbox_rows:
            batch.set(outbox.document(row_id), row)
        if not _committed(batch, attempt):
            continue
        return after
    raise Contention("booking", "too many changes at once")


def get(owner_id: str, booking_id: str) -> dict[str, Any]:
    snap = _col(owner_id).document(booking_id).get()
    if not snap.exists:
        raise DocumentMissing("booking", booking_id)
    return {"id": snap.id, **snap.to_dict()}


def update(owner_id: str, booking_id: str, fields: dict[str, Any]) -> None:
    _col(owner_id).document(booking_id).update(fields)


def record(owner_id: str, booking_id: str, fields: dict[str, Any], *, unchanged_since: Any,
           outbox_changes: Sequence[tuple[str, dict[str, Any]]] = (),
           outbox_rows: Sequence[tuple[str, dict[str, Any]]] = ()) -> Any | None:
    """Updates the booking, changes outbox rows and adds others, in one commit, on the condition
    that the booking and the changed rows were last written at `unchanged_since` (the commit
    that made them all) and the added rows do not exist. Returns the commit's time, or None if
    anything was written since: the caller then reads and decides again."""
    from google.api_core import exceptions as gexc

    db = clients.firestore()
    unchanged = db.write_option(last_update_time=unchanged_since)
    batch = db.batch()
    batch.update(_col(owner_id).document(booking_id), fields, option=unchanged)
    outbox = db.collection("outbox")
    for row_id, change in outbox_changes:
        batch.update(outbox.document(row_id), change, option=unchanged)
    for row_id, row in outbox_rows:
        batch.create(outbox.document(row_id), row)
    try:
        batch.commit()
    except (gexc.FailedPrecondition, gexc.AlreadyExists, gexc.Conflict, gexc.Aborted,
            gexc.NotFound):
        return None
    return batch.commit_time


def holding_starting_between(owner_id: str, start: datetime, end: datetime,
                             now: datetime) -> list[dict[str, Any]]:
    """Bookings that hold their time (confirmed, or a hold not yet lapsed) whose start lies in
    [start, end); one single-field range query."""
    from google.cloud.firestore import FieldFilter

    query = (_col(owner_id).where(filter=FieldFilter("start", ">=", start))
             .where(filter=FieldFilter("start", "<", end)))
    found = ({"id": d.id, **d.to_dict()} for d in query.stream())
    return [b for b in found if b.get("status") == "confirmed"
            or (b.get("status") == "pending" and holds.live(b, now))]


def list_recent(owner_id: str, limit: int = 100) -> list[dict[str, Any]]:
    query = _col(owner_id).order_by("start", direction="DESCENDING").limit(limit)
    return [{"id": d.id, **d.to_dict()} for d in query.stream()]


def due_for_reminders(now: datetime, limit: int = 500) -> list[tuple[dict[str, Any], Any]]:
    """(booking, its update time) of every owner's bookings whose next reminder is due: one
    collection-group range query on `next_reminder_at` (only bookings owed one carry it)."""
    from google.cloud.firestore import FieldFilter

    query = (clients.firestore().collection_group("bookings")
             .where(filter=FieldFilter("next_reminder_at", "<=", now))
             .order_by("next_reminder_at").limit(limit))
    return [({"id": d.id, **(d.to_dict() or {})}, d.update_time) for d in query.stream()]


def set_next_reminder(owner_id: str, booking_id: str, at: datetime | None,
                      unchanged_since: Any) -> bool:
    """Moves the booking's next reminder on, unless the booking changed since it was read (a
    reschedule set a new one); False then."""
    from google.api_core import exceptions as gexc
    from google.cloud import firestore as fs

    db = clients.firestore()
    try:
        _col(owner_id).document(booking_id).update(
            {"next_reminder_at": at if at is not None else fs.DELETE_FIELD},
            option=db.write_option(last_update_time=unchanged_since))
    except (gexc.FailedPrecondition, gexc.NotFound):
        return False
    return True


def group(owner_id: str, group_id: str) -> list[dict[str, Any]]:
    """Every seat of a group slot, cancelled ones too, oldest first (an equality query on one
    field: the automatic single-field index serves it)."""
    from google.cloud.firestore import FieldFilter

    query = _col(owner_id).where(filter=FieldFilter("group_id", "==", group_id))
    return sorted(({"id": d.id, **d.to_dict()} for d in query.stream()),
                  key=lambda b: (b["created_at"], b["id"]))


def groups(owner_id: str, group_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """The seats of each of `group_ids` that has any (an `in` query per 30 ids)."""
    from google.cloud.firestore import FieldFilter

    found: dict[str, list[dict[str, Any]]] = {}
    ids = sorted(set(group_ids))
    for i in range(0, len(ids), 30):
        query = _col(owner_id).where(filter=FieldFilter("group_id", "in", ids[i:i + 30]))
        for d in query.stream():
            found.setdefault(str(d.get("group_id")), []).append({"id": d.id, **d.to_dict()})
    return {gid: sorted(seats, key=lambda b: (b["created_at"], b["id"]))
            for gid, seats in found.items()}


def get_many(owner_id: str, booking_ids: Sequence[str]) -> list[dict[str, Any]]:
    """The bookings among `booking_ids` that exist, in one batched read."""
    refs = [_col(owner_id).document(bid) for bid in booking_ids]
    return [{"id": s.id, **(s.to_dict() or {})} for s in clients.firestore().get_all(refs)
            if s.exists]
