"""The hosted payment page: a card form that keeps what was typed and sends the buyer back."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kinfolk.core.errors import NotFound
from kinfolk.testpay.models import Charge
from kinfolk.testpay.selectors import charge_get

from .conftest import make_charge

pytestmark = pytest.mark.django_db

GOOD_FORM = {
    "card_number": "4242 4242 4242 4242",
    "expiry": "12/99",
    "cvc": "123",
    "name": "Ada Lovelace",
}


def page_url(charge) -> str:
    return reverse("testpay:pay", kwargs={"charge_id": charge.pk})


def test_the_page_shows_the_amount_the_merchant_and_a_card_form(client):
    charge = make_charge(amount=1250, currency="USD")

    response = client.get(page_url(charge))

    assert response.status_code == 200
    html = response.content.decode()
    assert "$12.50" in html and "Garage Drones · #42" in html
    for autocomplete in ("cc-number", "cc-exp", "cc-csc", "cc-name"):
        assert f'autocomplete="{autocomplete}"' in html
    assert "4000 0000 0000 0002" in html
    assert "csrfmiddlewaretoken" in html


def test_an_amount_without_minor_units_is_shown_whole(client):
    charge = make_charge(amount=15000, currency="KRW")

    response = client.get(page_url(charge))

    assert "₩15,000" in response.content.decode()


def test_bad_card_input_rerenders_the_form_with_the_message_and_the_typed_values(client):
    charge = make_charge()
    typed = {**GOOD_FORM, "card_number": "4242 4242 4242 4241", "expiry": "13/99"}

    response = client.post(page_url(charge), typed)

    assert response.status_code == 200
    html = response.content.decode()
    assert "check it for typos" in html
    assert "between 01 and 12" in html
    assert 'value="Ada Lovelace"' in html and 'value="13/99"' in html
    # The number lives only in its own input, never in messages or elsewhere on the page.
    assert html.count("4242 4242 4242 4241") == 1
    assert Charge.objects.get(pk=charge.pk).status == Charge.Status.CREATED


def test_a_good_card_sends_the_buyer_back_to_the_merchant(client):
    charge = make_charge(return_url="https://shop.example/orders/42/?paid=1")

    response = client.post(page_url(charge), GOOD_FORM)

    assert response.status_code == 303
    assert response["Location"] == "https://shop.example/orders/42/?paid=1"
    assert Charge.objects.get(pk=charge.pk).status == Charge.Status.APPROVED


def test_a_declined_card_also_returns_to_the_merchant_who_learns_why_by_callback(client):
    charge = make_charge()

    response = client.post(page_url(charge), {**GOOD_FORM, "card_number": "4000000000000002"})

    assert response.status_code == 303
    assert Charge.objects.get(pk=charge.pk).decline_reason == "card_declined"


def test_a_processed_charge_says_so_and_links_back(client):
    charge = make_charge()
    client.post(page_url(charge), GOOD_FORM)

    for response in (client.get(page_url(charge)), client.post(page_url(charge), GOOD_FORM)):
        assert response.status_code == 200
        html = response.content.decode()
        assert "already been processed" in html
        assert 'href="https://shop.example/orders/42/"' in html
        assert 'name="card_number"' not in html


def test_an_unknown_charge_is_404(client):
    response = client.get(reverse("testpay:pay", kwargs={"charge_id": uuid.uuid4()}))

    assert response.status_code == 404
    assert "Payment not found" in response.content.decode()


def test_the_form_refuses_a_post_without_a_csrf_token():
    charge = make_charge()

    response = Client(enforce_csrf_checks=True).post(page_url(charge), GOOD_FORM)

    assert response.status_code == 403
    assert Charge.objects.get(pk=charge.pk).status == Charge.Status.CREATED


def test_paying_reads_the_charge_once(client):
    charge = make_charge()
    client.get(page_url(charge))  # the page first, as a buyer sees it

    with CaptureQueriesContext(connection) as queries:
        response = client.post(page_url(charge), GOOD_FORM)

    assert response.status_code == 303
    reads = [
        q["sql"] for q in queries if q["sql"].startswith("SELECT") and "testpay_charge" in q["sql"]
    ]
    assert len(reads) == 1
    charge.refresh_from_db()
    assert charge.status == Charge.Status.APPROVED


def test_a_charge_is_found_by_its_id_in_either_form_and_nothing_else():
    charge = make_charge()
    assert charge_get(charge_id=str(charge.pk)) == charge
    assert charge_get(charge_id=charge.pk) == charge
    with pytest.raises(NotFound):
        charge_get(charge_id="not-a-uuid")
    with pytest.raises(NotFound):
        charge_get(charge_id=uuid.uuid4())
