"""A maker finds a fan in the customers list and writes a note about them, in a real browser.

Two fans order from the seeded shop through the storefront: one pays by card (the worker then
moves them to the identification stage), one chooses bank transfer and has not paid. The maker
logs in, opens Customers, filters by stage, opens the paying fan and adds a note that appears on
the timeline. Screenshots at 375 px and 1280 px wide are kept in test-artifacts/e2e/.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import ARTIFACTS

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}
LAPTOP = {"width": 1280, "height": 900}


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _order(page, site, *, email: str, name: str, provider: str) -> None:
    """Order the seeded record as a fan: cart, checkout with a Seoul address, ``provider``."""
    from playwright.sync_api import expect

    page.goto(site.url + "/moonlit/")
    page.get_by_role("link", name=re.compile("Night Drive LP")).first.click()
    page.get_by_role("button", name="Add to cart").click()
    expect(page.get_by_text("Added to your cart.")).to_be_visible()
    page.goto(site.url + "/moonlit/checkout/")
    page.fill("#f-email", email)
    page.fill("#f-name", name)
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
    page.locator(f"input[name=payment_provider][value={provider}]").check()
    page.get_by_role("button", name=re.compile("Place order")).click()
    if provider == "testpay":
        expect(page).to_have_url(re.compile(r"/testpay/pay/[0-9a-f-]+/$"))
        page.fill("#card_number", "4242 4242 4242 4242")
        page.fill("#expiry", "12/34")
        page.fill("#cvc", "123")
        page.fill("#name", name)
        page.get_by_role("button", name=re.compile("Pay")).click()
        expect(page.get_by_role("heading", name=re.compile(r"Thank you! Order #"))).to_be_visible(
            timeout=15_000
        )
    else:
        expect(page).to_have_url(re.compile(r"/moonlit/orders/[2-9A-Z]{8}/"))


def test_the_maker_filters_by_stage_opens_a_fan_and_adds_a_note(site, browser):
    from playwright.sync_api import expect

    fans = browser.new_context(viewport=LAPTOP, locale="en-US")
    context = browser.new_context(viewport=LAPTOP, device_scale_factor=1, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    server_errors: list[str] = []
    page.on(
        "response",
        lambda r: server_errors.append(f"{r.status} {r.url}") if r.status >= 500 else None,
    )
    try:
        # Given a fan who paid by card and one who has not paid yet
        shopper = fans.new_page()
        shopper.set_default_timeout(15_000)
        _order(shopper, site, email="minji@example.com", name="Kim Minji", provider="testpay")
        shopper.context.clear_cookies()
        _order(shopper, site, email="jae@example.com", name="Park Jae", provider="manual")

        # When the maker logs in and opens Customers
        page.goto(site.url + "/dashboard/")
        page.fill("input[name=username]", "maker@example.com")
        page.fill("input[name=password]", "a long maker password 42")
        page.locator("form button[type=submit]").last.click()
        page.get_by_role("navigation", name="Dashboard").get_by_role(
            "link", name="Customers"
        ).click()
        expect(page.get_by_role("heading", name="Customers")).to_be_visible()
        expect(page.get_by_role("link", name="Kim Minji")).to_be_visible()
        expect(page.get_by_role("link", name="Park Jae")).to_be_visible()

        # And filters by the identification stage (the worker moves the buyer there)
        tabs = page.get_by_role("navigation", name="Filter by stage")
        for _ in range(120):  # up to a minute on a loaded machine
            tabs.get_by_role("link", name=re.compile("^Identification")).click()
            if page.get_by_role("link", name="Kim Minji").count():
                break
            page.wait_for_timeout(500)
        expect(page.get_by_role("link", name="Kim Minji")).to_be_visible()
        expect(page.get_by_role("link", name="Park Jae")).to_have_count(0)
        _shot(page, "customers-1280")
        page.set_viewport_size(PHONE)
        _shot(page, "customers-375")
        page.set_viewport_size(LAPTOP)

        # Then the fan's page says why they are at their stage
        page.get_by_role("link", name="Kim Minji").click()
        expect(page.get_by_role("heading", name=re.compile("Kim Minji"))).to_be_visible()
        expect(page.get_by_text("Bought: 1 paid order in the last 365 days.")).to_be_visible()

        # And a note staff add appears on the timeline, with who wrote it
        page.get_by_label("Note").fill("Asked whether the LP will be repressed on red vinyl.")
        page.get_by_role("button", name="Add note").click()
        expect(page.get_by_text("The note is on the timeline.")).to_be_visible()
        timeline = page.locator("#timeline")
        expect(timeline.get_by_text("repressed on red vinyl")).to_be_visible()
        expect(timeline.get_by_text("maker@example.com")).to_be_visible()
        _shot(page, "customer-1280")
        page.set_viewport_size(PHONE)
        _shot(page, "customer-375")
        assert server_errors == []
    except Exception:
        _shot(page, "customer-failure")
        print(site.log_tail())
        raise
    finally:
        context.close()
        fans.close()
