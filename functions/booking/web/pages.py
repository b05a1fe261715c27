"""Pages for people: messages and errors, rendered from templates with escaping on."""

from __future__ import annotations

from booking.errors import BookingError
from booking.rendering import render

_TITLES = {
    400: "Something in the request is not right",
    401: "Please sign in",
    404: "Not found",
    409: "That did not work out",
    410: "This link no longer works",
    503: "Please try again in a moment",
}


def message_page(title: str, message: str, link: str | None = None,
                 link_text: str | None = None) -> str:
    return render("message.html", title=title, message=message, link=link, link_text=link_text)


def error_page(exc: BookingError) -> str:
    return message_page(_TITLES.get(exc.status, "Something went wrong"), exc.message)


def crash_page() -> str:
    return message_page(
        "Something went wrong",
        "We could not finish this request. Nothing was changed; please try again.",
    )
