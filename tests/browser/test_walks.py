"""The README's walk in a real browser, in English and in Slovenian: a guest in New York books
the Ljubljana owner's page, reads the email in the mailbox and cancels through the confirmation
page; the owner signs in, connects a second Google account through the consent screen, changes
the default calendar, creates an event type, and reschedules and cancels a booking."""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests

from tests.browser.conftest import GUEST_ZONE, WORK, Pages
from tests.conftest import Stack
from tests.drivers import owner_api

WORDS = {
    "en": {"browser": "en-GB", "book": "Book", "booked": "You are booked",
           "cancel_link": "Cancel booking", "reschedule_link": "Reschedule",
           "confirm": "Confirm cancellation", "cancelled": "Your booking is cancelled",
           "pick_new": "Pick a new time", "day": "Tuesday|Monday|Wednesday|Thursday|Friday",
           "sign_in": "Sign in", "add_account": "Add another account", "save": "Save",
           "connected": "Google account connected.", "event_types": "Event types",
           "new_type": "New event type", "bookings": "Bookings", "disconnect": "Disconnect",
           "keep": "Keep it connected", "title": "Title", "duration": "Duration (minutes)",
           "too_short": "must be between",
           "address": "Address (letters, digits, dashes)",
           "move": "Move the booking", "keep_booking": "Keep the booking",
           "cancelled_badge": "Cancelled", "subject": "Confirmed",
           "per_week": "At most per week", "unit": "Days ahead count",
           "working": "working days", "offline": "Could not reach the server."},
    "sl": {"browser": "sl-SI", "book": "Rezerviraj", "booked": "Rezervacija je potrjena",
           "cancel_link": "Odpovej rezervacijo", "reschedule_link": "Prestavi",
           "confirm": "Potrdi odpoved", "cancelled": "Vaša rezervacija je odpovedana",
           "pick_new": "Izberite nov termin",
           "day": "torek|ponedeljek|sreda|četrtek|petek",
           "sign_in": "Prijava", "add_account": "Dodaj še en račun", "save": "Shrani",
           "connected": "Google račun je povezan.", "event_types": "Vrste srečanj",
           "new_type": "Nova vrsta srečanja", "bookings": "Rezervacije",
           "disconnect": "Prekini povezavo", "keep": "Ohrani povezavo", "title": "Naslov",
           "duration": "Trajanje (minute)", "too_short": "mora biti med",
           "address": "Naslov strani (črke, številke, pomišljaji)",
           "move": "Prestavi rezervacijo", "keep_booking": "Obdrži rezervacijo",
           "cancelled_badge": "Odpovedano", "subject": "Potrjeno",
           "per_week": "Največ na teden", "unit": "Dnevi vnaprej se štejejo kot",
           "working": "delovni dnevi", "offline": "Strežnik ni dosegljiv."},
}


@pytest.mark.parametrize("lang", ["en", "sl"])
def test_guest_books_in_own_zone_reads_the_email_and_cancels(
        stack: Stack, demo: str, context_for: Any, lang: str) -> None:
    w = WORDS[lang]
    page = context_for(w["browser"]).new_page()
    pages = Pages(page, f"{lang}-guest")

    # First visit: the page's script moves it to the browser's zone.
    page.goto(f"{stack.base_url}/book/coach/intro")
    page.wait_for_url(re.compile(r"tz=America%2FNew_York"))
    assert page.locator("html").get_attribute("lang") == lang
    assert page.locator("#tz").input_value() == GUEST_ZONE
    pages.check("booking-page")
    # On a phone: nothing wider than the screen.
    page.set_viewport_size({"width": 390, "height": 844})
    pages.check("booking-page-mobile")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.set_viewport_size({"width": 1100, "height": 900})

    # By keyboard alone: a time picked with Space, the form sent with Enter.
    first_time = page.locator('input[name="start"]').first
    start = first_time.get_attribute("value") or ""
    assert start.endswith(("-05:00", "-04:00"))  # offered in New York time
    first_time.focus()
    page.keyboard.press("Space")
    assert first_time.is_checked()
    page.keyboard.press("Tab")  # from the times' group to the name
    page.keyboard.type("Ana Novak")
    assert page.get_by_label(re.compile("Your name|Vaše ime")).input_value() == "Ana Novak"
    page.get_by_label(re.compile("Your email|Vaš e-poštni naslov")).fill("ana@example.org")
    page.get_by_label("What would you like to talk about?").fill("Pricing & <b>plans</b>")
    page.get_by_label(re.compile("Your email|Vaš e-poštni naslov")).press("Enter")
    page.get_by_role("heading", name=w["booked"]).wait_for()
    assert page.get_by_role("link", name=re.compile("meet.google.com")).count() == 1
    pages.check("confirmation")

    # The mailbox: the guest's email, in the guest's language, with the Cancel button.
    page.goto(f"{stack.sendgrid_url}/_mailbox")
    # The guest's own message: the one whose subject names the owner as the other party.
    article = page.locator("article").filter(
        has=page.locator("h2").filter(has_text="Coach <Owner>"))
    assert w["subject"] in article.locator("h2").inner_text()
    pages.check("mailbox", axe=False)
    mail = article.frame_locator("iframe")
    reschedule = mail.get_by_role("link", name=w["reschedule_link"]).get_attribute("href")
    cancel = mail.get_by_role("link", name=w["cancel_link"]).get_attribute("href")
    assert reschedule and cancel

    page.goto(reschedule)
    page.get_by_role("heading", name=w["pick_new"]).wait_for()
    assert re.search(w["day"], page.locator("legend").first.inner_text())
    pages.check("reschedule-page")

    page.goto(cancel)
    pages.check("cancel-confirmation")
    page.get_by_role("button", name=w["confirm"]).click()
    page.get_by_role("heading", name=w["cancelled"]).wait_for()
    pages.check("cancelled")
    [booking] = owner_api(stack.base_url, demo, "GET", "/bookings").json()["bookings"]
    assert booking["status"] == "cancelled" and booking["guest"]["locale"] == lang


@pytest.mark.parametrize("lang", ["en", "sl"])
def test_owner_connects_second_account_sets_default_creates_event_type_and_manages_bookings(
        stack: Stack, demo: str, context_for: Any, lang: str) -> None:
    w = WORDS[lang]
    assert owner_api(stack.base_url, demo, "PATCH", "/settings",
                     json={"language": lang}).status_code == 200
    page = context_for(w["browser"], zone="Europe/Ljubljana").new_page()
    pages = Pages(page, f"{lang}-owner")
    base = f"{stack.base_url}/owner"

    page.goto(f"{base}/login")
    pages.check("sign-in")
    page.get_by_label(re.compile("API key|API-ključ")).fill(demo)
    page.get_by_role("button", name=w["sign_in"]).click()
    page.wait_for_url(f"{base}/integrations")
    pages.check("integrations")

    # Add another account: Google's consent screen (the stand-in's), then back here.
    page.get_by_role("link", name=w["add_account"]).click()
    page.get_by_role("button", name=re.compile("Coach at work")).click()
    pages.check("google-consent", axe=False)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Select all").check()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(r"/owner/integrations\?connected=1"))
    assert page.get_by_text(w["connected"]).is_visible()
    assert page.get_by_text(WORK).count() >= 1
    pages.check("integrations-two-accounts")

    # Default calendar: the work account's own calendar.
    page.get_by_role("radio", name=re.compile(f"{re.escape(WORK)}$")).check()
    page.get_by_role("button", name=w["save"]).click()
    page.wait_for_url(f"{base}/integrations")
    overview = owner_api(stack.base_url, demo, "GET", "/connections").json()
    assert overview["default_calendar"]["calendar_id"] == WORK

    # Disconnect asks first; keeping it changes nothing.
    page.locator("summary", has_text=WORK).click()
    page.locator("details[open]").get_by_role("link", name=w["disconnect"]).click()
    pages.check("disconnect-confirmation")
    page.get_by_role("link", name=w["keep"]).click()
    assert len(owner_api(stack.base_url, demo, "GET", "/connections").json()
               ["connections"]) == 2

    # A new event type: a wrong duration comes back next to its field, then it saves.
    page.get_by_role("link", name=w["event_types"], exact=True).click()
    pages.check("event-types")
    page.get_by_role("link", name=w["new_type"]).click()
    page.get_by_label(w["title"], exact=True).fill("Strategy session")
    page.get_by_label(w["address"]).fill("strategy")
    page.get_by_label(w["duration"]).fill("0")
    page.get_by_role("button", name=w["save"]).click()
    message = page.locator('[data-error-for="rules.duration_minutes"]')
    message.wait_for(state="visible")
    assert message.inner_text().strip().startswith(w["too_short"])  # the owner's language
    assert page.get_by_label(w["duration"]).get_attribute("aria-invalid") == "true"
    pages.check("event-type-field-message")
    page.get_by_label(w["duration"]).fill("45")
    page.get_by_label(w["per_week"]).fill("3")
    page.get_by_label(w["unit"]).select_option(label=w["working"])
    page.get_by_role("button", name=w["save"]).click()
    page.wait_for_url(f"{base}/event-types")
    assert page.get_by_text("Strategy session").count() >= 1
    created = owner_api(stack.base_url, demo, "GET", "/event-types/strategy").json()
    assert created["rules"]["duration_minutes"] == 45
    assert created["rules"]["max_bookings_per_week"] == 3
    assert created["rules"]["booking_window_unit"] == "business_days"

    # Bookings: reschedule and cancel each ask first.
    slots = requests.get(f"{stack.base_url}/availability", timeout=30, params={
        "owner": "coach", "event_type": "intro", "time_zone": GUEST_ZONE,
        "start": created_day(), "end": created_day(13)}).json()["days"]
    first = next(s for day in slots.values() for s in day)
    booked = requests.post(f"{stack.base_url}/book", timeout=60, json={
        "owner": "coach", "event_type": "intro", "start": first, "name": "Guest Person",
        "email": "guest@example.org", "time_zone": GUEST_ZONE})
    assert booked.status_code == 201, booked.text
    page.get_by_role("link", name=w["bookings"], exact=True).click()
    pages.check("bookings")
    page.get_by_role("link", name=re.compile(w["reschedule_link"])).click()
    pages.check("booking-reschedule")
    page.locator('input[name="start"]').nth(1).check()
    page.get_by_role("button", name=w["move"]).click()
    page.wait_for_url(f"{base}/bookings")
    page.get_by_role("link", name=re.compile(w["cancel_link"].split()[0])).click()
    pages.check("booking-cancel-confirmation")
    # The network drops the first try: the owner is told so, next to the button, and nothing
    # is cancelled (a click that silently did nothing made them wonder).
    page.route("**/api/bookings/*/cancel", lambda route: route.abort())
    page.get_by_role("button", name=w["confirm"]).click()
    offline = page.locator('[data-error-for="_form"]')
    offline.filter(has_text=w["offline"]).wait_for(state="visible")
    assert owner_api(stack.base_url, demo, "GET", "/bookings").json()["bookings"][0][
        "status"] == "confirmed"
    page.unroute("**/api/bookings/*/cancel")
    page.get_by_role("button", name=w["confirm"]).click()
    page.wait_for_url(f"{base}/bookings")
    assert page.get_by_text(w["cancelled_badge"], exact=True).count() == 1
    [row] = owner_api(stack.base_url, demo, "GET", "/bookings").json()["bookings"]
    assert row["status"] == "cancelled" and row["start"] != first


def created_day(offset: int = 0) -> str:
    from datetime import UTC, datetime, timedelta

    return (datetime.now(UTC).date() + timedelta(days=offset)).isoformat()
