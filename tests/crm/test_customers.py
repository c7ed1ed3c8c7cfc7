"""Each shop keeps one record per person, whatever the case of the address and however many
requests arrive at once; the timeline only takes the shop's own customers."""

import threading

import pytest
from django.db import connections

from kinfolk.core.errors import InvalidInput
from kinfolk.crm.models import Customer, Interaction
from kinfolk.crm.services import customer_get_or_create, customers_link_account, interaction_record


@pytest.mark.django_db
def test_the_same_address_in_another_case_is_the_same_customer(shop):
    first = customer_get_or_create(shop=shop, email="Minji@Example.com", name="Kim Minji")
    again = customer_get_or_create(shop=shop, email="  minji@EXAMPLE.com ")
    assert again.pk == first.pk
    assert Customer.objects.get().email == "minji@example.com"


@pytest.mark.django_db
def test_each_shop_has_its_own_record_of_a_person(shop, make_shop):
    mine = customer_get_or_create(shop=shop, email="fan@example.com")
    theirs = customer_get_or_create(shop=make_shop(), email="fan@example.com")
    assert mine.pk != theirs.pk


@pytest.mark.django_db
def test_later_contacts_fill_in_what_was_missing_but_never_overwrite(shop, make_user):
    fan = make_user("fan@example.com")
    customer_get_or_create(shop=shop, email="fan@example.com", name="Minji")
    customer = customer_get_or_create(
        shop=shop, email="fan@example.com", name="Someone Else", country="KR", account=fan
    )
    assert (customer.name, customer.country, customer.account) == ("Minji", "KR", fan)
    customer.refresh_from_db()
    assert (customer.name, customer.country, customer.account) == ("Minji", "KR", fan)


@pytest.mark.django_db
@pytest.mark.parametrize("email", ["", "   "])
def test_an_address_is_required(shop, email):
    with pytest.raises(InvalidInput) as info:
        customer_get_or_create(shop=shop, email=email)
    assert info.value.field == "email"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(3))
def test_first_contacts_at_the_same_moment_make_one_customer(shop, round_):
    # Given several requests with the same address, in different cases, released together
    spellings = ["Race@Example.com", "race@example.com", "RACE@EXAMPLE.COM", "race@Example.COM"]
    barrier = threading.Barrier(len(spellings))
    ids, errors = [], []

    def contact(email):
        try:
            barrier.wait(timeout=10)
            ids.append(customer_get_or_create(shop=shop, email=email).pk)
        except Exception as exc:  # noqa: BLE001 - any failure is the test's finding
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=contact, args=(email,)) for email in spellings]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # Then all of them got the one row that exists
    assert errors == []
    assert Customer.objects.filter(shop=shop).count() == 1
    assert set(ids) == {Customer.objects.get(shop=shop).pk}


@pytest.mark.django_db
def test_signing_up_links_the_guest_records_of_every_shop(shop, make_shop, make_user):
    other = make_shop()
    customer_get_or_create(shop=shop, email="Guest@Example.com")
    customer_get_or_create(shop=other, email="guest@example.com")
    customer_get_or_create(shop=shop, email="someone@example.com")
    fan = make_user("guest@example.com")
    assert customers_link_account(account=fan) == 2
    assert set(Customer.objects.filter(account=fan).values_list("shop", flat=True)) == {
        shop.pk,
        other.pk,
    }
    assert customers_link_account(account=fan) == 0


@pytest.mark.django_db
def test_linking_never_takes_a_record_already_linked_to_someone(shop, make_user):
    first = make_user("shared@example.com")
    customer_get_or_create(shop=shop, email="shared@example.com", account=first)
    assert customers_link_account(account=first) == 0
    assert Customer.objects.get().account == first


@pytest.mark.django_db
def test_the_timeline_records_an_event(shop):
    customer = customer_get_or_create(shop=shop, email="fan@example.com")
    interaction = interaction_record(
        shop=shop,
        customer=customer,
        kind=Interaction.Kind.NOTE,
        subject_type="order",
        subject_id=42,
        data={"text": "Prefers vinyl"},
    )
    assert (interaction.subject_id, interaction.data) == ("42", {"text": "Prefers vinyl"})
    assert interaction.occurred_at is not None


@pytest.mark.django_db
def test_the_timeline_refuses_another_shop_s_customer(shop, make_shop):
    customer = customer_get_or_create(shop=make_shop(), email="fan@example.com")
    with pytest.raises(InvalidInput, match="another shop"):
        interaction_record(shop=shop, customer=customer, kind=Interaction.Kind.NOTE)
    assert not Interaction.objects.exists()


@pytest.mark.django_db
def test_the_timeline_refuses_unknown_kinds(shop):
    customer = customer_get_or_create(shop=shop, email="fan@example.com")
    with pytest.raises(InvalidInput, match="Unknown interaction kind"):
        interaction_record(shop=shop, customer=customer, kind="hug")


@pytest.mark.django_db
def test_an_account_is_never_linked_to_another_person_s_address(shop, make_user):
    # Given a guest customer and a logged-in fan who types the guest's address
    guest = customer_get_or_create(shop=shop, email="guest@example.com")
    fan = make_user("fan@example.com")

    # When the fan's account is offered for the guest's record
    customer = customer_get_or_create(shop=shop, email="guest@example.com", account=fan)

    # Then the guest's record stays unlinked
    assert customer.pk == guest.pk
    assert Customer.objects.get(pk=guest.pk).account is None


@pytest.mark.django_db
def test_an_unconfirmed_account_is_not_linked_even_to_its_own_address(shop, make_user):
    fan = make_user("fan@example.com", email_confirmed_at=None, is_active=False)

    customer = customer_get_or_create(shop=shop, email="fan@example.com", account=fan)

    assert customer.account is None


@pytest.mark.django_db
def test_a_fan_with_a_record_can_reach_another_address_without_error(shop, make_user):
    # Given a fan already linked in the shop
    fan = make_user("fan@example.com")
    own = customer_get_or_create(shop=shop, email="fan@example.com", account=fan)

    # When the fan sends a gift to a new address in the same shop
    gift = customer_get_or_create(shop=shop, email="mum@example.com", account=fan)

    # Then a second, unlinked customer is made and the fan keeps their own
    assert own.account == fan and gift.pk != own.pk and gift.account is None
