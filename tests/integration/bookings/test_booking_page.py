"""The guest's booking page as a browser without JavaScript uses it: a month of days, the free
times of one day, a plain form post, and the answer page; in the guest's language, with the
owner still written to in theirs."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import requests

from tests.conftest import Stack
from tests.drivers import owner_api
from tests.integration.bookings.conftest import ZONE, bookings, next_tuesday

NY = "America/New_York"


def _page(stack: Stack, lang: str | None = None, **params: str) -> requests.Response:
    headers = {"Accept-Language": "sl-SI,sl;q=0.9,en;q=0.3"}
    if lang:
        params["lang"] = lang
    return requests.get(f"{stack.base_url}/book/mia/intro", params=params, headers=headers,
                        timeout=60)


def _times(html: str) -> list[str]:
    return [unescape(v) for v in re.findall(r'name="start" value="([^"]+)"', html)]


def test_form_post_without_javascript_books_in_the_guests_language(
        stack: Stack, owner_key: str) -> None:
    day = next_tuesday()
    page = _page(stack, tz=NY, month=f"{day:%Y-%m}", day=day.isoformat())
    assert page.status_code == 200
    assert '<html lang="sl" data-zone="America/New_York">' in page.text  # Accept-Language
    assert "torek" in page.text and "Izberite termin" in page.text
    assert "What would you like to talk about?" in page.text  # the event type's question
    times = _times(page.text)
    assert times and all(t.endswith("-05:00") or t.endswith("-04:00") for t in times)
    # The owner works 09:00-17:00 in Ljubljana: 03:00 in New York in winter.
    assert times[0][11:16] in ("03:00", "02:00")
    # The language switch keeps the day she picked (and the month and zone).
    switched = unescape(re.search(r'href="([^"]+)"[^>]*hreflang="en"', page.text).group(1))
    assert parse_qs(urlsplit(switched).query)["day"] == [day.isoformat()]
    english_page = requests.get(switched, timeout=60)
    assert _times(english_page.text) == times and "Tuesday," in english_page.text

    done = requests.post(f"{stack.base_url}/book/mia/intro?tz={NY}&lang=sl", data={
        "start": times[0], "name": "Ana Novak", "email": "ana@example.org",
        "answer_0": "Cene & paketi"}, timeout=60)
    assert done.status_code == 201, done.text[:2000]
    assert "Rezervacija je potrjena" in done.text
    assert re.search(r'href="https://meet\.google\.com/[^"]+"', done.text)
    assert "calendar.google.com/calendar/render?action=TEMPLATE" in done.text
    [stored] = bookings()
    assert stored["guest"] == {"name": "Ana Novak", "email": "ana@example.org",
                               "time_zone": NY, "locale": "sl"}
    assert stored["answers"] == ["Cene & paketi"]

    mails = {m["to"][0]["email"] if isinstance(m["to"][0], dict) else m["to"][0]: m
             for m in stack.sendgrid.messages()}
    guest, owner = mails["ana@example.org"], mails["mia@owner.test"]
    assert guest["subject"].startswith("Potrjeno: Intro call z osebo ")
    assert "Pozdravljeni, Ana Novak," in guest["text"] and "Kdaj: torek," in guest["text"]
    assert "lang=sl" in guest["text"]  # the cancel link opens its page in Slovenian
    assert owner["subject"].startswith("Confirmed: Intro call with Ana Novak")  # owner: English
    assert "Tuesday," in owner["text"]

    # The answer's language switch shows the same answer in English, and books nothing more.
    english = unescape(re.search(r'href="([^"]+)"[^>]*hreflang="en"', done.text).group(1))
    again = requests.get(english, timeout=60)
    assert again.status_code == 200, again.text[:2000]
    assert "You are booked" in again.text and "Tuesday," in again.text
    meet = re.search(r'href="(https://meet\.google\.com/[^"]+)"', done.text).group(1)
    assert meet in again.text and "calendar.google.com/calendar/render" in again.text
    times = re.findall(r"\d\d:\d\d–\d\d:\d\d \(America/New_York", again.text)
    assert times and times[0] in done.text  # the time in the zone she booked in
    back = unescape(re.search(r'href="([^"]+)"[^>]*hreflang="sl"', again.text).group(1))
    assert "Rezervacija je potrjena" in requests.get(back, timeout=60).text
    assert len(bookings()) == 1 and len(stack.sendgrid.messages()) == 2
    forged = requests.get(english.replace("booked=", "booked=x"), timeout=60)
    assert forged.status_code == 404 and "This link is not valid." in forged.text


def test_wrong_fields_come_back_with_messages_and_what_was_typed(
        stack: Stack, owner_key: str) -> None:
    day = next_tuesday()
    resp = requests.post(f"{stack.base_url}/book/mia/intro?tz={NY}&lang=en", data={
        "name": "Ana <Novak>", "email": "not-an-email", "answer_0": "kept"}, timeout=60)
    assert resp.status_code == 400
    assert 'aria-invalid="true" aria-describedby="name-error"' in resp.text
    assert "Please enter your name" in resp.text
    assert "Please enter an email address such as ana@example.com." in resp.text
    assert "Please pick one of the free times." in resp.text
    assert 'value="Ana &lt;Novak&gt;"' in resp.text and ">kept</textarea>" in resp.text
    assert bookings() == [] and stack.sendgrid.messages() == []
    assert day  # the page still shows the month to pick from
    assert "<table class=\"month\">" in resp.text
    # An answer refused for what it holds says so, in the guest's language.
    control = requests.post(f"{stack.base_url}/book/mia/intro?tz={NY}&lang=sl", data={
        "name": "Ana", "email": "ana@example.org", "answer_0": "a\x07b"}, timeout=60)
    assert control.status_code == 400 and "Ne sme vsebovati kontrolnih znakov." in control.text
    # A time at the ends of the calendar is refused like any other wrong time (it was a 500:
    # year 9999 in a zone east of UTC, or year 1 west of it, overflowed the page's dates).
    for start, zone in (("9999-12-31T23:59:59+00:00", "Pacific/Kiritimati"),
                        ("0001-01-01T00:00:00+14:00", NY)):
        edge = requests.post(f"{stack.base_url}/book/mia/intro?tz={zone}&lang=en", data={
            "start": start, "name": "Ana", "email": "ana@example.org"}, timeout=60)
        assert edge.status_code == 400, (start, edge.status_code)
        assert "Please pick one of the free times." in edge.text
    assert bookings() == []


def test_a_taken_time_says_so_next_to_the_times(stack: Stack, owner_key: str) -> None:
    day = next_tuesday()
    start = _times(_page(stack, "en", tz=NY, day=day.isoformat(),
                         month=f"{day:%Y-%m}").text)[0]
    form = {"start": start, "name": "First", "email": "first@example.org"}
    assert requests.post(f"{stack.base_url}/book/mia/intro?tz={NY}", data=form,
                         timeout=60).status_code == 201
    again = requests.post(f"{stack.base_url}/book/mia/intro?tz={NY}&lang=en",
                          data={**form, "email": "second@example.org"}, timeout=60)
    assert again.status_code == 409
    assert "That time was just taken. Please pick another one." in again.text
    assert start not in _times(again.text)


def test_unknown_pages_answer_in_html_and_the_page_may_be_embedded(
        stack: Stack, owner_key: str) -> None:
    missing = requests.get(f"{stack.base_url}/book/mia/nope?lang=sl", timeout=30)
    assert missing.status_code == 404 and "Ni najdeno" in missing.text
    assert missing.headers["Content-Type"].startswith("text/html")
    # A paused event type's guests have its link from the owner: the page says it is paused.
    deep = owner_api(stack.base_url, owner_key, "GET", "/event-types/deep").json()
    assert owner_api(stack.base_url, owner_key, "PUT", "/event-types/deep",
                     json={**deep, "active": False}).status_code == 200
    paused = requests.get(f"{stack.base_url}/book/mia/deep?lang=sl", timeout=30)
    assert paused.status_code == 404
    assert "Ta stran trenutno ne sprejema rezervacij." in paused.text
    page = _page(stack, "en")
    csp = page.headers["Content-Security-Policy"]
    # mia lists https://mia.example as her site: only it may frame the page.
    assert "frame-ancestors https://mia.example" in csp and "script-src 'self'" in csp
    assert "X-Frame-Options" not in page.headers
    script = requests.get(f"{stack.base_url}/book/_assets/booking.js", timeout=30)
    assert script.status_code == 200 and "Intl.DateTimeFormat" in script.text


def test_the_month_view_stops_at_the_booking_window(stack: Stack, owner_key: str) -> None:
    # 60 days ahead by default: a month far past it shows the window's last month, with no
    # "next month" to click through empty months for ever.
    last = datetime.now(ZONE).date() + timedelta(days=59)
    shown = (last + timedelta(days=1)).replace(day=1)
    far = _page(stack, "en", tz=NY, month="2199-12")
    assert far.status_code == 200
    assert f"{shown:%B} {shown.year}</h2>" in far.text
    assert 'aria-label="Next month"' not in far.text
    assert "Please try the next month" not in far.text

    # A window of one Saturday, when the owner does not work: its month says until when
    # bookings are open, in the guest's language.
    saturday = next_tuesday() + timedelta(days=4)
    deep = owner_api(stack.base_url, owner_key, "GET", "/event-types/deep").json()
    deep["rules"].update(bookable_from=saturday.isoformat(), bookable_until=saturday.isoformat())
    assert owner_api(stack.base_url, owner_key, "PUT", "/event-types/deep",
                     json=deep).status_code == 200
    page = requests.get(f"{stack.base_url}/book/mia/deep", timeout=60, params={
        "lang": "sl", "tz": "Europe/Ljubljana", "month": f"{saturday:%Y-%m}"})
    assert page.status_code == 200
    assert 'aria-label="Naslednji mesec"' not in page.text
    assert "Zadnji dan za rezervacije je sobota, " in page.text
