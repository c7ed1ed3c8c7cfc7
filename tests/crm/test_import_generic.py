"""Any CSV of purchases imports with a mapping of its columns and the layout of its dates."""

from __future__ import annotations

import datetime as dt

import pytest

from kinfolk.core.errors import InvalidInput
from kinfolk.crm.models import Customer, Interaction
from tests.crm.import_files import GENERIC_MAPPING, import_file, interactions, rejected

pytestmark = pytest.mark.django_db
Kind = Interaction.Kind


@pytest.fixture
def usd_shop(make_shop):
    return make_shop("zines", currency="USD", time_zone="Europe/London", country="GB")


def test_mapped_columns_become_orders_with_dates_in_the_shops_zone(usd_shop):
    """Given "05/03/2024 14:22" read as day/month, then Ada's order was placed on 5 March at
    14:22 London time, for 12.50."""
    import_file(usd_shop, "generic.csv", "generic", mapping=GENERIC_MAPPING)
    events = interactions(usd_shop, "A-1", subject_type="import_order")
    assert events[Kind.ORDER_PAID]["total"] == 1250
    placed = Interaction.objects.get(subject_id="A-1", kind=Kind.ORDER_PLACED)
    assert placed.occurred_at == dt.datetime(2024, 3, 5, 14, 22, tzinfo=dt.UTC)
    assert Customer.objects.get(email="ada@example.com").name == "Ada Lovelace"


def test_lines_of_one_order_number_add_up_to_one_order(usd_shop):
    """Given order A-2 on two lines of 20.00 and 5.00, then it is one order of 25.00."""
    import_file(usd_shop, "generic.csv", "generic", mapping=GENERIC_MAPPING)
    paid = interactions(usd_shop, "A-2", subject_type="import_order")[Kind.ORDER_PAID]
    assert paid["total"] == 2500
    assert [(item["name"], item["quantity"]) for item in paid["items"]] == [
        ("Poster", 1),
        ("Sticker", 2),
    ]


def test_lines_that_do_not_fit_the_mapping_are_rejected(usd_shop):
    """Given a date in another layout, a missing address and a word for an amount, then those
    lines are rejected with their numbers."""
    report = import_file(usd_shop, "generic.csv", "generic", mapping=GENERIC_MAPPING)
    reasons = rejected(report)
    assert set(reasons) == {5, 6, 7}
    assert "2024-03-07" in reasons[5] and "%d/%m/%Y %H:%M" in reasons[5]
    assert "No e-mail address" in reasons[6]
    assert "ten" in reasons[7]


def test_a_mapping_to_columns_the_file_lacks_is_refused_naming_them(usd_shop):
    """Given a mapping naming a column the file does not have and leaving out the amount, then
    the import refuses and says so for each field."""
    with pytest.raises(InvalidInput) as error:
        import_file(
            usd_shop,
            "generic.csv",
            "generic",
            mapping={"email": "E-mail", "date": "Ordered on"},
        )
    assert set(error.value.errors) == {"email", "total", "file"}
    assert "“E-mail”" in error.value.errors["email"]
    assert "“Customer e-mail”, “Customer”, “Ordered on”" in error.value.errors["file"]


def test_without_order_numbers_each_line_is_keyed_by_its_contents(usd_shop):
    """Given ISO dates, semicolons and no order column, then each line is an order, and the
    same file imported again adds nothing."""
    content = (
        b"email;date;amount\n"
        b"ada@example.com;2024-03-05T14:22:10+09:00;10\n"
        b"ada@example.com;2024-04-05;12.5\n"
    )
    mapping = {"email": "email", "date": "date", "total": "amount"}
    first = import_file(usd_shop, "", "generic", content=content, mapping=mapping)
    assert (first.orders_imported, first.rejected_count) == (2, 0)
    placed = Interaction.objects.filter(kind=Kind.ORDER_PLACED).order_by("occurred_at")
    assert [event.occurred_at for event in placed] == [
        dt.datetime(2024, 3, 5, 5, 22, 10, tzinfo=dt.UTC),
        dt.datetime(2024, 4, 4, 23, 0, tzinfo=dt.UTC),  # midnight in London (summer time)
    ]
    again = import_file(usd_shop, "", "generic", content=content, mapping=mapping)
    assert (again.orders_imported, again.already_imported) == (0, 2)
