"""A fan catches a drop in a real browser: the countdown runs on the server's clock and opens the
page by itself, they reserve a numbered copy, see its hold timer at checkout, pay on the card
processor's page, and the order page shows "No. 1 of 2,000" once the signed callback arrives
(and the certificate PDF holds that number). A sold-out drop offers its waitlist. Screenshots at
375 and 1280 px are kept in test-artifacts/e2e/."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.e2e.conftest import ARTIFACTS

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}
LAPTOP = {"width": 1280, "height": 900}
OPENS_IN_SECONDS = 12

SEED_DROPS = textwrap.dedent(
    """
    import datetime as dt
    import json
    import sys

    import django

    django.setup()
    from kinfolk.catalog.services import product_create
    from kinfolk.core import clock
    from kinfolk.drops.services import edition_create, hold_take
    from kinfolk.shops.models import Shop

    shop = Shop.objects.get(slug="moonlit")
    deluxe = product_create(
        shop=shop, name="Night Drive — Deluxe Edition", price=750000, stock=None,
        status="active",
        description="The record on **heavy blue vinyl**, a signed print and a numbered sleeve.",
    )
    edition_create(
        shop=shop, product=deluxe, variant=deluxe.variants.get(), size=2000,
        opens_at=clock.now() + dt.timedelta(seconds=int(sys.argv[1])),
    )
    pressing = product_create(
        shop=shop, name="Test Pressing", price=120000, stock=None, status="active",
    )
    small = edition_create(
        shop=shop, product=pressing, variant=pressing.variants.get(), size=1,
        opens_at=clock.now() - dt.timedelta(hours=1),
    )
    hold_take(shop=shop, edition=small, email="first@example.com")
    print(json.dumps({"deluxe": deluxe.slug, "pressing": pressing.slug}))
    """
)


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")  # the sticky header stays at the top of the shot
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _both_widths(page, name: str) -> None:
    page.set_viewport_size(PHONE)
    _shot(page, f"{name}-phone")
    page.set_viewport_size(LAPTOP)
    _shot(page, f"{name}-laptop")
    page.set_viewport_size(PHONE)


def _seed_drops(site) -> dict[str, str]:
    done = subprocess.run(
        [sys.executable, "-c", SEED_DROPS, str(OPENS_IN_SECONDS)],
        env=site.env,
        cwd=site.data_dir,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _fill_checkout(page) -> None:
    page.fill("#f-name", "김민지")
    page.fill("#f-street_address", "세종대로 110")
    if page.locator("#f-city").count():
        page.fill("#f-city", "중구")
    area = page.locator("#f-country_area")
    if area.count():
        if area.evaluate("element => element.tagName") == "SELECT":
            area.select_option(value="서울특별시")
        else:
            area.fill("서울특별시")
    page.fill("#f-postal_code", "04524")
    page.locator("input[name=payment_provider][value=testpay]").check()


def _certificate_text(page) -> str | None:
    """Download the order page's certificate, if it offers one; return its text (or "" when
    no PDF reader is installed), or None when there is no certificate link."""
    link = page.get_by_role("link", name=re.compile("Certificate"))
    if not link.count():
        return None
    with page.expect_download() as download_info:
        link.first.click()
    path = download_info.value.path()
    data = Path(path).read_bytes()
    assert data.startswith(b"%PDF")
    try:
        from pypdf import PdfReader
    except ImportError:
        return ""
    return "\n".join(p.extract_text() or "" for p in PdfReader(path).pages)


def test_a_fan_catches_the_drop_when_it_opens_and_gets_copy_number_one(site, browser):
    from playwright.sync_api import expect

    slugs = _seed_drops(site)
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, locale="en-US", accept_downloads=True
    )
    page = context.new_page()
    page.set_default_timeout(20_000)
    server_errors: list[str] = []
    page.on(
        "response",
        lambda r: server_errors.append(f"{r.status} {r.url}") if r.status >= 500 else None,
    )
    try:
        # Given a drop of 2,000 numbered copies opening in a few seconds
        page.goto(f"{site.url}/moonlit/drops/{slugs['deluxe']}/")
        expect(page.get_by_role("heading", name="Opens in")).to_be_visible()
        expect(page.locator("[data-unit=seconds]")).not_to_have_text("--")
        _both_widths(page, "drop-01-countdown")

        # When the countdown ends, the page opens the drop by itself
        reserve = page.get_by_role("button", name="Reserve a copy")
        expect(reserve).to_be_visible(timeout=OPENS_IN_SECONDS * 1000 + 20_000)
        expect(page.get_by_text("2,000 of 2,000 left")).to_be_visible()
        page.fill("#f-email", "minji@example.com")
        _both_widths(page, "drop-02-open")

        # And the fan reserves: checkout holds the copy for them, with its timer
        reserve.click()
        expect(page).to_have_url(re.compile(r"/moonlit/checkout/$"))
        timer = page.locator("[data-hold-sentence]")
        expect(timer).to_contain_text(re.compile(r"Your copy is held for [0-9]+:[0-5][0-9]"))
        expect(timer).to_contain_text(re.compile(r"held for 9:[0-5][0-9]"))  # it counts down
        expect(page.locator("#f-email")).to_have_value("minji@example.com")
        _fill_checkout(page)
        _both_widths(page, "drop-03-checkout")
        page.get_by_role("button", name=re.compile("Place order")).click()

        # Then they pay on the card processor's page
        expect(page).to_have_url(re.compile(r"/testpay/pay/[0-9a-f-]+/$"))
        page.fill("#card_number", "4242 4242 4242 4242")
        page.fill("#expiry", "12/34")
        page.fill("#cvc", "123")
        page.fill("#name", "Kim Minji")
        page.get_by_role("button", name=re.compile("Pay")).click()

        # And the order page shows their copy's number once the payment is confirmed
        expect(page).to_have_url(re.compile(r"/moonlit/orders/[2-9A-Z]{8}/\?t="))
        expect(page.get_by_text("No. 1 of 2,000")).to_be_visible(timeout=20_000)
        _both_widths(page, "drop-04-order")

        # And the certificate, when offered, names that number
        text = _certificate_text(page)
        if text:
            assert re.search(r"No\.\s*1\b", text), text[:500]
            assert "2,000" in text or "2000" in text, text[:500]

        # And a drop that sold out offers its waitlist
        page.goto(f"{site.url}/moonlit/drops/{slugs['pressing']}/")
        expect(page.get_by_text("Sold out", exact=True)).to_be_visible()
        page.fill("#f-email", "minji@example.com")
        page.get_by_role("button", name="Join the waitlist").click()
        expect(page.get_by_text("You're on the waitlist.")).to_be_visible()
        _both_widths(page, "drop-05-waitlist")
        assert server_errors == []
    except Exception:
        _shot(page, "drop-failure")
        print(site.log_tail())
        raise
    finally:
        context.close()
