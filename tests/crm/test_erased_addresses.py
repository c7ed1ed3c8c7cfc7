"""An erasure recognises the person by every address the shop knew them by: the record's own,
the address of a record merged into it, and its account's (which may differ). An import of old
history leaves the lines of any of them out and brings nobody back; other people's lines, and
other shops, are untouched. Migration 0012 moves the digests kept before it into their table."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from kinfolk.accounts.models import User
from kinfolk.core import clock
from kinfolk.crm.models import Customer, ErasedAddress, Erasure, Interaction
from kinfolk.crm.services import customer_get_or_create, interaction_record
from kinfolk.crm.services.merges import customer_merge, customers_follow_account_email
from kinfolk.crm.services.privacy import customer_erase, erased_address_digest
from tests.crm.import_files import GENERIC_MAPPING, import_file

pytestmark = pytest.mark.django_db

OWN = "grace@example.com"
MERGED = "amazing.grace@example.org"
ACCOUNT = "admiral@navy.example"
STRANGER = "hedy@example.com"
# An export of old history: one order under each of Grace's addresses, spelt as other systems
# spell them, and one of somebody else.
OLD_EXPORT = (
    "Order,Customer e-mail,Customer,Ordered on,Amount,Product,Qty\n"
    "H-1, Grace@Example.COM ,Grace Hopper,05/03/2024 14:22,12.50,Zine,1\n"  # line 2
    f"H-2,{MERGED.upper()},Amazing Grace,06/03/2024 09:00,20.00,Poster,1\n"  # line 3
    f"H-3,{ACCOUNT},Admiral Hopper,07/03/2024 10:00,5.00,Sticker,2\n"  # line 4
    f"H-4,{STRANGER},Hedy Lamarr,08/03/2024 11:00,10.00,Zine,1\n"  # line 5
).encode()
GRACE_LINES = [2, 3, 4]


@pytest.fixture
def usd_shop(make_shop):
    return make_shop("vinyl-club", currency="USD", time_zone="America/Los_Angeles", country="US")


def grace_in(*shops, make_user) -> list[Customer]:
    """Grace as each shop knows her: her record (linked to her account), an older record of hers
    merged into it, and her account's address changed since, not confirmed yet, so that the
    records keep the old one. Returns her record in each shop."""
    account = make_user(OWN, name="Grace Hopper")
    records = []
    for shop in shops:
        customer = customer_get_or_create(
            shop=shop, email=OWN, name="Grace Hopper", account=account
        )
        assert customer.account_id == account.pk
        older = customer_get_or_create(shop=shop, email=MERGED, name="Amazing Grace")
        interaction_record(
            shop=shop, customer=older, kind=Interaction.Kind.NOTE, data={"text": "Met at the fair"}
        )
        customer_merge(shop=shop, source=older, target=customer)
        records.append(customer)
    # The operators' admin changed the account's address; it waits for its confirmation.
    User.objects.filter(pk=account.pk).update(email=ACCOUNT, email_confirmed_at=None)
    for customer in records:
        customer.refresh_from_db()
        assert customer.email == OWN and customer.account.email == ACCOUNT
    return records


def erase(shop, customer) -> Erasure:
    return customer_erase(shop=shop, customer=customer, requested_by=Erasure.RequestedBy.FAN)


def import_old_export(shop):
    return import_file(shop, "", "generic", content=OLD_EXPORT, mapping=GENERIC_MAPPING)


def left_out(report) -> list[int]:
    return sorted(entry["line"] for entry in report.kept_left_out())


def people(shop, email: str):
    return Customer.objects.filter(shop=shop, email__iexact=email)


def test_an_erasure_keeps_a_digest_of_every_address_the_person_was_known_by(usd_shop, make_user):
    """Given Grace known by her own address, a merged record's and her account's, when she is
    erased, then the erasure keeps the digest of each of the three, normalised and salted with
    the shop, and none of the addresses in clear."""
    (grace,) = grace_in(usd_shop, make_user=make_user)

    erasure = erase(usd_shop, grace)

    expected = {erased_address_digest(shop_id=usd_shop.pk, email=a) for a in (OWN, MERGED, ACCOUNT)}
    kept = list(erasure.addresses.values_list("shop_id", "digest"))
    assert sorted(kept) == sorted((usd_shop.pk, digest) for digest in expected)


def test_an_import_of_old_history_leaves_out_every_address_of_the_erased_person(
    usd_shop, make_user
):
    """Given Grace erased, when an old export with an order under each of her three addresses
    and one of Hedy's is imported, then Grace's three lines are left out: no customer has any of
    her addresses, her erased record gets nothing, and the only new customer and timeline rows
    are Hedy's."""
    (grace,) = grace_in(usd_shop, make_user=make_user)
    erase(usd_shop, grace)
    customers_before = set(Customer.objects.filter(shop=usd_shop).values_list("pk", flat=True))
    interactions_before = set(
        Interaction.objects.filter(shop=usd_shop).values_list("pk", flat=True)
    )

    report = import_old_export(usd_shop)

    assert left_out(report) == GRACE_LINES and report.left_out_count == 3
    assert report.customers_created == 1 and report.orders_imported == 1
    for address in (OWN, MERGED, ACCOUNT):
        assert not people(usd_shop, address).exists(), address
    hedy = people(usd_shop, STRANGER).get()
    assert set(Customer.objects.filter(shop=usd_shop).values_list("pk", flat=True)) == {
        *customers_before,
        hedy.pk,
    }
    new_rows = Interaction.objects.filter(shop=usd_shop).exclude(pk__in=interactions_before)
    assert new_rows.exists() and set(new_rows.values_list("customer_id", flat=True)) == {hedy.pk}
    assert (
        not Interaction.objects.filter(shop=usd_shop, subject_id__startswith="H-")
        .exclude(customer=hedy)
        .exists()
    )


def test_an_erasure_in_one_shop_leaves_another_shops_imports_alone(usd_shop, make_shop, make_user):
    """Given Grace known by her three addresses in two shops and erased from one, when the other
    shop imports the old export, then all four lines come in there, Grace's included."""
    tapes = make_shop("tapes", currency="USD", time_zone="America/Los_Angeles", country="US")
    in_usd_shop, _in_tapes = grace_in(usd_shop, tapes, make_user=make_user)
    erase(usd_shop, in_usd_shop)

    report = import_old_export(tapes)

    assert report.left_out_count == 0 and report.orders_imported == 4
    assert people(tapes, OWN).get().erased_at is None
    assert people(tapes, STRANGER).exists()
    assert not ErasedAddress.objects.filter(shop=tapes).exists()
    assert left_out(import_old_export(usd_shop)) == GRACE_LINES


def test_an_address_erased_twice_is_kept_once_and_still_left_out(usd_shop, make_user):
    """Given Grace erased, back through the shop under her own address and erased again, then
    the second erasure succeeds, the shop keeps each address once (with the first erasure), and
    the old export still leaves all three out."""
    (grace,) = grace_in(usd_shop, make_user=make_user)
    first = erase(usd_shop, grace)
    with clock.frozen(clock.now()):
        back = customer_get_or_create(shop=usd_shop, email=OWN, name="Grace Hopper")
    assert back.pk != first.customer_id

    second = erase(usd_shop, back)

    assert second.completed_at is not None and not second.addresses.exists()
    assert ErasedAddress.objects.filter(shop=usd_shop).count() == 3
    assert set(ErasedAddress.objects.filter(shop=usd_shop).values_list("erasure", flat=True)) == {
        first.pk
    }
    assert left_out(import_old_export(usd_shop)) == GRACE_LINES


@pytest.mark.django_db(transaction=True)
def test_migration_0012_moves_the_digests_kept_on_erasures_into_their_table(usd_shop):
    """Given erasures kept as 0011 kept them (one digest each, the same address erased twice,
    one from before 0009 without a digest), when 0012 runs, then each shop keeps each digest
    once, with its first erasure; going back puts the first digest back on each erasure."""
    customer = customer_get_or_create(shop=usd_shop, email="old@example.com")
    before, latest = ("crm", "0011_shop_indexes_covered"), ("crm", "0012_erased_addresses")
    executor = MigrationExecutor(connection)
    executor.migrate([before])
    old = executor.loader.project_state([before]).apps.get_model("crm", "Erasure")
    now = clock.now()
    ids = [
        old.objects.create(
            shop_id=usd_shop.pk,
            customer_id=customer.pk,
            requested_at=now,
            requested_by="staff",
            email_digest=digest,
        ).pk
        for digest in ("a" * 64, "a" * 64, "b" * 64, "")
    ]

    executor = MigrationExecutor(connection)
    executor.migrate([latest])

    assert sorted(ErasedAddress.objects.values_list("shop_id", "erasure_id", "digest")) == [
        (usd_shop.pk, ids[0], "a" * 64),
        (usd_shop.pk, ids[2], "b" * 64),
    ]

    executor = MigrationExecutor(connection)
    executor.migrate([before])
    old = executor.loader.project_state([before]).apps.get_model("crm", "Erasure")
    assert dict(old.objects.values_list("pk", "email_digest")) == {
        ids[0]: "a" * 64,
        ids[1]: "",
        ids[2]: "b" * 64,
        ids[3]: "",
    }
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            triggers = {name for (name,) in cursor.fetchall()}
        assert {
            "crm_customer_search_insert",
            "crm_customer_search_update",
            "crm_customer_search_delete",
        } <= triggers


def test_an_address_the_record_had_before_following_its_account_is_left_out_too(
    usd_shop, make_user
):
    """Given a fan whose record took their account's new address (the old one now only in the
    record's history), when the fan is erased, then an old export under the old address brings
    nobody back."""
    account = make_user(OWN, name="Grace Hopper")
    customer = customer_get_or_create(
        shop=usd_shop, email=OWN, name="Grace Hopper", account=account
    )
    User.objects.filter(pk=account.pk).update(email=ACCOUNT, email_confirmed_at=clock.now())
    account.refresh_from_db()
    customers_follow_account_email(account=account, shop=usd_shop)
    customer.refresh_from_db()
    assert customer.email == ACCOUNT

    erasure = erase(usd_shop, customer)

    kept = set(erasure.addresses.values_list("digest", flat=True))
    assert erased_address_digest(shop_id=usd_shop.pk, email=OWN) in kept
    report = import_old_export(usd_shop)
    assert 2 in left_out(report) and 4 in left_out(report)
    assert not people(usd_shop, OWN).exists()
    assert not people(usd_shop, ACCOUNT).exclude(pk=customer.pk).exists()
