"""Why something was refused, in the reader's language: guests' pages; the owner's API
(which their event type and settings pages show next to the fields) answers in the owner's
language; a booking's standard place ("Phone call") reads in each reader's language in their
email."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs

import requests

from tests.conftest import Stack
from tests.drivers import owner_api, owner_browser, same_origin_json
from tests.integration.bookings.conftest import at, book, bookings, next_tuesday, rules

NY = "America/New_York"
BAD_TYPE = {"slug": "Bad Slug", "title": "", "location": "carrier pigeon",
            "reminders": [{"method": "sms", "minutes": 10}],
            "rules": rules(duration_minutes=0)}


def test_owner_api_field_messages_follow_the_owners_language(
        stack: Stack, owner_key: str) -> None:
    english = owner_api(stack.base_url, owner_key, "POST", "/event-types", json=BAD_TYPE)
    assert english.status_code in (400, 422), english.text
    assert english.json()["fields"]["title"] == "is required (at most 200 characters)"

    assert owner_api(stack.base_url, owner_key, "PATCH", "/settings",
                     json={"language": "sl"}).status_code == 200
    slovenian = owner_api(stack.base_url, owner_key, "POST", "/event-types", json=BAD_TYPE)
    assert slovenian.status_code == english.status_code
    fields = slovenian.json()["fields"]
    assert set(fields) == set(english.json()["fields"])  # the same fields, named as before
    assert fields["title"] == "je obvezno (največ 200 znakov)"
    assert fields["slug"] == "uporabite 1-63 malih črk, števk ali vezajev"
    assert fields["location"].startswith("mora biti eno od: google_meet")
    assert fields["reminders[0].method"] == "mora biti email ali popup"
    settings = owner_api(stack.base_url, owner_key, "PATCH", "/settings",
                         json={"language": "xx", "meet_enabled": "yes"})
    assert settings.status_code in (400, 422)
    assert settings.json()["fields"] == {"language": "mora biti eno od: en, sl",
                                         "meet_enabled": "mora biti da ali ne (true/false)"}
    # Nothing was changed by the refused requests.
    listed = owner_api(stack.base_url, owner_key, "GET", "/event-types").json()
    assert "Bad Slug" not in str(listed)


def test_the_standard_place_reads_in_each_readers_language(
        stack: Stack, owner_key: str) -> None:
    created = owner_api(stack.base_url, owner_key, "POST", "/event-types", json={
        "slug": "phone", "title": "Phone chat", "location": "phone", "rules": rules()})
    assert created.status_code == 201, created.text
    day = next_tuesday()
    page = requests.get(f"{stack.base_url}/book/mia/phone", params={
        "tz": NY, "month": f"{day:%Y-%m}", "day": day.isoformat(), "lang": "sl"}, timeout=60)
    start = re.findall(r'name="start" value="([^"]+)"', page.text)[0]
    done = requests.post(f"{stack.base_url}/book/mia/phone?tz={NY}&lang=sl", data={
        "start": start, "name": "Ana Novak", "email": "ana@example.org"}, timeout=60)
    assert done.status_code == 201, done.text[:2000]
    assert bookings()[0]["location_text"] == "Phone call"  # stored once, read per reader
    mails = {m["to"][0]["email"] if isinstance(m["to"][0], dict) else m["to"][0]: m
             for m in stack.sendgrid.messages()}
    assert "Kje: Telefonski klic" in mails["ana@example.org"]["text"]
    assert "Where: Phone call" in mails["mia@owner.test"]["text"]


def test_guest_pages_explain_refusals_in_the_guests_language(
        stack: Stack, owner_key: str) -> None:
    done = book(stack, at(next_tuesday(), "10:00"), locale="sl")
    assert done.status_code == 201, done.text
    guest = next(m for m in stack.sendgrid.messages() if m["to"] == ["guest@example.org"])
    cancel = re.search(r"(http://\S+/cancel\?token=[^\s\"<>]+)", guest["text"])
    reschedule = re.search(r"(http://\S+/reschedule\?token=[^\s\"<>]+)", guest["text"])
    assert cancel and reschedule and "lang=sl" in cancel.group(1)
    url = cancel.group(1)
    base, query = url.split("?")
    token = parse_qs(query)["token"][0]
    # The same time again: refused next to nothing but in Slovenian words.
    same = requests.post(reschedule.group(1).split("?")[0] + "?lang=sl", data={
        "token": parse_qs(reschedule.group(1).split("?")[1])["token"][0],
        "start": at(next_tuesday(), "10:00").isoformat()}, timeout=60)
    assert same.status_code == 400, same.text[:1000]
    assert "Je že trenutni čas rezervacije" in unescape(same.text)
    tampered = requests.get(base, params={"token": token[:-2] + "AA", "lang": "sl"}, timeout=30)
    assert tampered.status_code == 404 and "Ta povezava ni veljavna." in unescape(tampered.text)
    assert requests.post(base + "?lang=sl", data={"token": token}, timeout=60).status_code == 200
    again = requests.get(url, timeout=30)
    assert again.status_code == 410
    assert "Ta rezervacija je že preklicana." in unescape(again.text)
    english = requests.get(base, params={"token": token, "lang": "en"}, timeout=30)
    assert "This booking was already cancelled." in english.text


def test_the_integration_pages_forms_answer_in_the_owners_language_not_the_browsers(
        stack: Stack, owner_key: str) -> None:
    assert owner_api(stack.base_url, owner_key, "PATCH", "/settings",
                     json={"language": "sl"}).status_code == 200
    browser = owner_browser(stack.base_url, owner_key)
    english_browser = {**same_origin_json(stack.base_url), "Accept-Language": "en-US,en"}
    # The page itself: each calendar's access reads in Slovenian, not as Google's word.
    page = browser.get(f"{stack.base_url}/owner/integrations", timeout=30)
    cells = re.findall(r"<td>([^<]*)</td>", page.text)
    assert "lastnik" in cells and "owner" not in cells, cells
    # Google's product by its Slovenian name, as in the emails ("Google Koledar").
    assert "<h1>Google Koledar</h1>" in page.text and "Google Calendar" not in page.text
    # A date stands on its own after a colon: Slovenian would decline it after "od" (since).
    assert re.search(r"Povezano: \w+, \d+\. \w+ \d{4}\.", page.text), page.text
    # The function's own URL, as an owner types it, opens their pages; a wrong path says so
    # in their language.
    for root in ("/owner", "/owner/"):
        home = browser.get(stack.base_url + root, allow_redirects=False, timeout=30)
        assert home.status_code == 303, (root, home.status_code)
        assert home.headers["Location"] == f"{stack.base_url}/owner/integrations"
    lost = browser.get(f"{stack.base_url}/owner/nope", timeout=30)
    assert lost.status_code == 404 and "Te strani ni." in lost.text
    signed_out = requests.get(f"{stack.base_url}/owner", allow_redirects=False, timeout=30)
    assert signed_out.headers["Location"] == f"{stack.base_url}/owner/login"
    zone = browser.post(f"{stack.base_url}/owner/integrations/settings",
                        json={"form": {"time_zone": ["Mars/Base"]}}, headers=english_browser,
                        allow_redirects=False, timeout=30)
    assert zone.status_code == 400 and zone.headers["Content-Type"].startswith("text/html")
    assert "Ni časovni pas IANA, na primer Europe/Ljubljana." in unescape(zone.text)
    gone = browser.post(f"{stack.base_url}/owner/integrations/g404/disconnect",
                        json={"form": {}}, headers=english_browser, allow_redirects=False,
                        timeout=30)
    assert gone.status_code == 404 and "Te povezave ni." in unescape(gone.text)
    # The owner's API (which their pages call) speaks the owner's language too, and says
    # which message each refusal is, for clients that word it themselves.
    refused = owner_api(stack.base_url, owner_key, "PATCH", "/settings",
                        json={"time_zone": "Mars/Base"})
    assert refused.json()["codes"] == {"time_zone": "settings.time_zone"}
    unknown = owner_api(stack.base_url, owner_key, "GET", "/nope")
    assert unknown.status_code == 404 and unknown.json()["message"] == "tega vira ni"
    # A method the resource does not take: the owner's words, the Allow header for clients.
    method = owner_api(stack.base_url, owner_key, "GET", "/settings")
    assert method.status_code == 405 and method.headers["Allow"] == "PATCH, POST"
    assert method.json()["message"] == "uporabite PATCH ali POST"
    on_page = browser.put(f"{stack.base_url}/owner/integrations", json={},
                          headers=english_browser, timeout=30)
    assert on_page.status_code == 405 and on_page.headers["Allow"] == "GET, HEAD"
    assert "Uporabite GET." in on_page.text and "Use GET" not in on_page.text
    shown = owner_api(stack.base_url, owner_key, "GET", "/connections").json()
    assert shown["owner"]["time_zone"] == "Europe/Ljubljana"  # nothing was changed
