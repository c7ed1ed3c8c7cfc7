"""A Shopify customers export brings in who the shop's customers are: names as people write
them, countries, tags, and the consent they gave, never overriding an answer given here."""

from __future__ import annotations

import pytest

from kinfolk.core import clock
from kinfolk.crm.models import ConsentRecord, Customer, Interaction, Tag
from kinfolk.crm.services import customer_get_or_create
from tests.crm.import_files import import_file, rejected

pytestmark = pytest.mark.django_db


@pytest.fixture
def usd_shop(make_shop):
    return make_shop("vinyl-club", currency="USD", time_zone="America/Los_Angeles", country="US")


def _customer(shop, email: str) -> Customer:
    return Customer.objects.get(shop=shop, email=email)


def test_customers_come_in_with_names_countries_and_tags(usd_shop):
    """Given the export, then each customer has their name (김민지 family name first), their
    country code, and their tags, shared case-insensitively within the shop."""
    report = import_file(usd_shop, "shopify_customers.csv", "shopify_customers")
    assert report.customers_created == 5
    minji = _customer(usd_shop, "minji@example.kr")
    assert (minji.name, minji.country) == ("김민지", "KR")
    ada = _customer(usd_shop, "ada@example.com")
    assert (ada.name, ada.country) == ("Ada Lovelace", "GB")
    assert set(ada.tags.values_list("name", flat=True)) == {"newsletter", "VIP"}
    assert set(minji.tags.values_list("name", flat=True)) == {"VIP", "부산 공연"}
    assert Tag.objects.filter(shop=usd_shop).count() == 4
    assert _customer(usd_shop, "late@example.com").country == ""  # "United States" is no code


def test_a_yes_to_marketing_is_recorded_as_consent_with_its_source_and_wording(usd_shop):
    """Given "Accepts Email Marketing" yes for Ada, 김민지 and one more, then each has a consent
    record saying where it came from and may be e-mailed; Grace (no) has neither."""
    import_file(usd_shop, "shopify_customers.csv", "shopify_customers")
    granted = ConsentRecord.objects.filter(shop=usd_shop, granted=True)
    assert sorted(granted.values_list("customer__email", flat=True)) == [
        "ada@example.com",
        "late@example.com",
        "minji@example.kr",
    ]
    record = granted.first()
    assert record.source == "import: shopify"
    assert record.wording == "Imported from Shopify: accepts e-mail marketing"
    assert record.topic == ConsentRecord.Topic.EMAIL_MARKETING
    assert _customer(usd_shop, "ada@example.com").email_marketing is True
    grace = _customer(usd_shop, "grace@example.com")
    assert grace.email_marketing is False and not grace.consents.exists()


def test_an_answer_given_in_this_shop_is_never_overridden_by_an_imported_list(usd_shop):
    """Given Ada unsubscribed here, when a list saying she accepts is imported, then she stays
    unsubscribed and no consent is added."""
    with clock.frozen(clock.now()):
        ada = customer_get_or_create(shop=usd_shop, email="ada@example.com")
        ConsentRecord.objects.create(
            shop=usd_shop,
            customer=ada,
            topic=ConsentRecord.Topic.EMAIL_MARKETING,
            granted=False,
            recorded_at=clock.now(),
            source="unsubscribe link",
        )
    report = import_file(usd_shop, "shopify_customers.csv", "shopify_customers")
    ada.refresh_from_db()
    assert ada.email_marketing is False
    assert list(ada.consents.values_list("granted", flat=True)) == [False]
    assert report.already_imported == 1


def test_lines_without_a_usable_address_are_rejected_by_line_number(usd_shop):
    """Given a line without an address and one with a malformed address, after a note spanning
    two lines, then both are rejected at their lines and the lines after are read right."""
    report = import_file(usd_shop, "shopify_customers.csv", "shopify_customers")
    reasons = rejected(report)
    assert set(reasons) == {5, 6}
    assert "No e-mail address" in reasons[5]
    assert "not-an-address" in reasons[6]


def test_a_second_import_of_the_list_adds_no_customer_consent_or_tag(usd_shop):
    """Given an imported list, when it is imported again, then everyone is already there and
    nothing is added."""
    import_file(usd_shop, "shopify_customers.csv", "shopify_customers")
    counts = (
        Customer.objects.count(),
        ConsentRecord.objects.count(),
        Tag.objects.count(),
        Customer.tags.through.objects.count(),
    )
    again = import_file(usd_shop, "shopify_customers.csv", "shopify_customers")
    assert (again.customers_created, again.already_imported) == (0, 5)
    assert counts == (
        Customer.objects.count(),
        ConsentRecord.objects.count(),
        Tag.objects.count(),
        Customer.tags.through.objects.count(),
    )


def test_totals_spent_are_not_turned_into_orders(usd_shop):
    """Given "Total Spent" and "Total Orders", then no order is invented from them."""
    import_file(usd_shop, "shopify_customers.csv", "shopify_customers")
    assert not Interaction.objects.filter(shop=usd_shop).exists()


def test_the_older_layout_with_accepts_marketing_and_country_code_is_read(usd_shop):
    """Given an export from before Shopify renamed its columns, then consent and country are
    read from "Accepts Marketing" and "Country Code"."""
    import_file(usd_shop, "shopify_customers_older.csv", "shopify_customers")
    old = _customer(usd_shop, "old@example.com")
    assert (old.name, old.country, old.email_marketing) == ("Old Layout", "CA", True)
    assert list(old.tags.values_list("name", flat=True)) == ["legacy"]
