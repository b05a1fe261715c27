"""Our exceptions. Entry points map them to HTTP answers in one place (booking.web.http).

    BookingError                 base; `status` is the HTTP answer, `code` a stable machine word
    ├── InvalidInput      400    names each bad field: `fields = {"guest_email": "not an email"}`
    │   └── Unprocessable 422    well-formed but contradicts what was sent before (a reused key)
    ├── Unauthorized      401    no or wrong owner credential
    ├── NotFound          404    unknown, or not this owner's (never tells which)
    ├── MethodNotAllowed  405
    ├── Conflict          409    the slot was taken, the state changed meanwhile
    ├── Gone              410    cancelled already, link used or expired
    ├── PayloadTooLarge   413
    ├── TooManyRequests   429    past an abuse limit; `retry_after` seconds (Retry-After)
    ├── Unavailable       503    an outside service could not be checked (names no account)
    └── ConfigError       500    a missing or bad environment variable, named

    ExternalError                raised by adapters only, translated from SDK errors
    ├── TransientError           worth retrying later (429, 5xx, timeouts)
    │   └── AwaitingReconnect    the owner must reconnect the account first: the work waits
    ├── PermanentError           retrying will not help (4xx other than auth)
    └── ReauthRequired           Google said invalid_grant: the owner must reconnect

    StoreError                   raised by the Firestore adapters only; `kind` names what (owner,
    │                            connection, api_key, booking, event_type, oauth_state). Never
    │                            an answer by itself: services translate it into a BookingError
    │                            (booking.services.stored), so what a person reads is decided
    │                            in one place, with its message id.
    ├── DocumentMissing          no such document
    ├── AlreadyExists            a create met a document that is there
    ├── AlreadyUsed              a one-time document was used already
    ├── LastOne                  the write would remove the last of something (an owner's key)
    └── Contention               too many writers at once: the transaction gave up

The messages of BookingErrors raised by the domain and services are `Problem`s (message ids
with English text, booking.domain.problems), so the web layer can say them in any language.
"""

from __future__ import annotations

from collections.abc import Mapping

from booking.domain.problems import Problem


class BookingError(Exception):
    status = 500
    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(BookingError):
    status = 400
    code = "invalid_input"

    def __init__(self, fields: Mapping[str, str] | str, message: str | None = None) -> None:
        if isinstance(fields, str):
            fields = {fields: message or "is invalid"}
        self.fields = dict(fields)
        summary = "; ".join(f"{name}: {why}" for name, why in self.fields.items())
        super().__init__(f"invalid input: {summary}")


class Unprocessable(InvalidInput):
    status = 422
    code = "unprocessable"


class Unauthorized(BookingError):
    status = 401
    code = "unauthorized"


class Forbidden(BookingError):
    """Signed in, but this request may not do this (another owner's attempt, a cross-site
    request)."""

    status = 403
    code = "forbidden"


class NotFound(BookingError):
    status = 404
    code = "not_found"


class MethodNotAllowed(BookingError):
    """405 naming the methods the resource takes ("use GET or POST", a message id: it reads in
    the reader's language); `allow` is the Allow header RFC 9110 asks for (HEAD wherever GET
    is: it is answered as GET)."""

    status = 405
    code = "method_not_allowed"

    def __init__(self, *methods: str) -> None:
        super().__init__(_use(methods))
        shown = [*methods, *(["HEAD"] if "GET" in methods and "HEAD" not in methods else [])]
        self.allow = ", ".join(shown)


def _use(methods: tuple[str, ...]) -> Problem:
    if not methods:
        return Problem("method.not_allowed", "method not allowed")
    if len(methods) == 1:
        return Problem("method.use_one", "use %(method)s", method=methods[0])
    return Problem("method.use_either", "use %(methods)s or %(last)s",
                   methods=", ".join(methods[:-1]), last=methods[-1])


class Conflict(BookingError):
    status = 409
    code = "conflict"


class Gone(BookingError):
    """`again`: where the reader can start over, when there is such a place (the booking page
    of a hold that lapsed); its page links there."""

    status = 410
    code = "gone"

    def __init__(self, message: str, *, again: str | None = None) -> None:
        super().__init__(message)
        self.again = again


class PayloadTooLarge(BookingError):
    status = 413
    code = "payload_too_large"


class TooManyRequests(BookingError):
    status = 429
    code = "too_many_requests"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unavailable(BookingError):
    status = 503
    code = "unavailable"


class ConfigError(BookingError):
    status = 500
    code = "config_error"


class ExternalError(Exception):
    """An outside service failed; `service` names it (google, secret_manager, sendgrid)."""

    def __init__(self, service: str, message: str, status: int | None = None,
                 reason: str | None = None) -> None:
        super().__init__(f"{service}: {message}")
        self.service = service
        self.status = status
        self.reason = reason


class TransientError(ExternalError):
    pass


class AwaitingReconnect(TransientError):
    """Work for a Google account whose grant is dead: it waits for the owner to reconnect
    (the outbox counts no attempt for it) instead of being given up after a day."""


class PermanentError(ExternalError):
    pass


class ReauthRequired(PermanentError):
    pass


class StoreError(Exception):
    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind
        self.detail = detail


class DocumentMissing(StoreError):
    pass


class AlreadyExists(StoreError):
    pass


class AlreadyUsed(StoreError):
    pass


class LastOne(StoreError):
    pass


class Contention(StoreError):
    pass
