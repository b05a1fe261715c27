"""Browser tier: Debian's chromium driven by Playwright against the same stack as the
integration tests (functions, Firestore emulator, stand-ins).

scripts/test installs chromium (apt) and Playwright (requirements.txt) on a clean machine. Every
page a test visits is saved as a screenshot under .artifacts/screenshots/ and checked with
axe-core (bundled in axe-playwright-python: no network), failing on serious or critical
violations.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, Stack
from tests.drivers import connect_google_account, owner_api
from tests.integration.helpers import google, make_owner

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = ROOT / ".artifacts" / "screenshots"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
PERSONAL, WORK = "coach@gmail.test", "coach.work@example.test"
GUEST_ZONE = "America/New_York"  # the owner is in Europe/Ljubljana


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.exit(f"{CHROMIUM} is missing: scripts/test installs it (apt-get install "
                    "chromium)", returncode=3)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def demo(stack: Stack) -> str:
    """The README's demo owner: one Google account connected, a second one not yet, and an
    event type with a question. Returns the owner's API key."""
    g = google(stack)
    g.create_account(PERSONAL, "Coach", time_zone="Europe/Ljubljana")
    g.create_account(WORK, "Coach at work", time_zone="Europe/Ljubljana")
    key = make_owner("coach")
    assert connect_google_account(stack.base_url, key, stack.google_url, PERSONAL)\
        .status_code == 303
    created = owner_api(stack.base_url, key, "POST", "/event-types", json={
        "slug": "intro", "title": "Intro call", "description": "A first conversation.",
        "questions": ["What would you like to talk about?"],
        "rules": {"weekly_hours": {d: [["09:00", "17:00"]]
                                   for d in ("mon", "tue", "wed", "thu", "fri")},
                  "duration_minutes": 30, "minimum_notice_minutes": 60}})
    assert created.status_code == 201, created.text
    return key


class Pages:
    """Looks at each page as a person and as a checker would: a screenshot and axe-core."""

    def __init__(self, page: Any, prefix: str) -> None:
        self.page = page
        self.prefix = prefix
        self.seen: list[str] = []

    def check(self, name: str, *, axe: bool = True) -> None:
        from axe_playwright_python.sync_playwright import Axe

        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{self.prefix}-{name}.png"),
                             full_page=True)
        self.seen.append(name)
        if not axe:
            return  # the stand-ins' own pages (Google's consent screen, the mailbox)
        result = Axe().run(self.page)
        bad = [f"{v['id']} ({v['impact']}): {v['help']} at "
               f"{[n['target'] for n in v['nodes']][:3]}"
               for v in result.response["violations"] if v["impact"] in ("serious", "critical")]
        assert not bad, f"{name}: accessibility violations:\n" + "\n".join(bad)


@pytest.fixture
def context_for(browser: Any) -> Iterator[Any]:
    contexts: list[Any] = []

    def make(locale: str, zone: str = GUEST_ZONE, width: int = 1100) -> Any:
        ctx = browser.new_context(locale=locale, timezone_id=zone,
                                  viewport={"width": width, "height": 900})
        ctx.set_default_timeout(20_000)
        contexts.append(ctx)
        return ctx

    yield make
    for ctx in contexts:
        ctx.close()
