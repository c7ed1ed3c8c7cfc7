"""A fan buys a record in a real browser: shop → product → cart → checkout → the card
processor's page → the order page turns to "Thank you" when the signed callback arrives, and the
confirmation e-mail leaves over SMTP. Screenshots are kept in test-artifacts/e2e/."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import ARTIFACTS

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 900}


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_a_fan_buys_a_record_with_a_card_and_sees_the_confirmation(site, browser):
    from playwright.sync_api import expect

    context = browser.new_context(viewport=PHONE, device_scale_factor=2, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    server_errors: list[str] = []
    page.on(
        "response",
        lambda response: (
            server_errors.append(f"{response.status} {response.url}")
            if response.status >= 500
            else None
        ),
    )
    try:
        # Given a shop with a record, a fan on their phone opens the platform's home page
        page.goto(site.url + "/")
        _shot(page, "01-home-phone")
        page.get_by_role("link", name=re.compile("Moonlit Records")).first.click()
        expect(page).to_have_url(re.compile(r"/moonlit/$"))
        _shot(page, "02-shop-phone")

        # When they open the record and add it to the cart
        page.get_by_role("link", name=re.compile("Night Drive LP")).first.click()
        expect(page.get_by_role("heading", name="Night Drive LP")).to_be_visible()
        _shot(page, "03-product-phone")
        page.get_by_role("button", name="Add to cart").click()
        expect(page.get_by_text("Added to your cart.")).to_be_visible()
        page.get_by_role("link", name="View cart").click()
        expect(page).to_have_url(re.compile(r"/moonlit/cart/$"))
        _shot(page, "04-cart-phone")

        # And check out with their e-mail, a Seoul address and a card
        page.get_by_role("link", name="Check out").click()
        expect(page).to_have_url(re.compile(r"/moonlit/checkout/$"))
        page.fill("#f-email", "minji@example.com")
        page.fill("#f-name", "김민지")
        expect(page.locator("#f-country_code")).to_have_value("KR")
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
        _shot(page, "05-checkout-phone")
        page.get_by_role("button", name=re.compile("Place order")).click()

        # Then the card processor's page asks for the card
        expect(page).to_have_url(re.compile(r"/testpay/pay/[0-9a-f-]+/$"))
        expect(page.get_by_text("₩38,000").first).to_be_visible()
        page.fill("#card_number", "4242 4242 4242 4242")
        page.fill("#expiry", "12/34")
        page.fill("#cvc", "123")
        page.fill("#name", "Kim Minji")
        _shot(page, "06-testpay-phone")
        page.get_by_role("button", name=re.compile("Pay")).click()

        # And back on the order page it turns to paid when the signed callback has arrived
        expect(page).to_have_url(re.compile(r"/moonlit/orders/[2-9A-Z]{8}/\?t="))
        heading = page.get_by_role("heading", name=re.compile(r"Thank you! Order #"))
        expect(heading).to_be_visible(timeout=15_000)
        number = re.search(r"#([2-9A-Z]{8})", heading.inner_text()).group(1)
        expect(page.get_by_text("Paid", exact=True)).to_be_visible()
        _shot(page, "07-confirmation-phone")
        page.set_viewport_size(LAPTOP)
        _shot(page, "08-confirmation-laptop")

        # And the confirmation e-mail went out over SMTP, with the order's number and link
        message = site.inbox.wait_for(lambda m: number in str(m["Subject"]), timeout=15)
        assert message is not None, f"no confirmation e-mail\n{site.log_tail()}"
        assert message["To"] == "minji@example.com"
        assert "confirmed" in message["Subject"]
        body = message.get_body(preferencelist=("plain",)).get_content()
        assert "Night Drive LP" in body and "₩38,000" in body
        assert f"{site.url}/moonlit/orders/{number}/?t=" in body
        assert server_errors == []
    except Exception:
        _shot(page, "failure")
        print(site.log_tail())
        raise
    finally:
        context.close()
