"""Mailing-list consent: a request grants nothing until its e-mailed link is confirmed; the
record keeps the wording, source, IP and time; confirming twice records once; unsubscribing
records the withdrawal."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kinfolk.core.errors import NotFound
from kinfolk.crm.models import ConsentRecord, Interaction
from kinfolk.crm.services import customer_get_or_create
from kinfolk.crm.services.consent import (
    consent_request_confirm,
    consent_request_create,
    marketing_consent_withdraw,
    unsubscribe_token,
    unsubscribe_url,
)

pytestmark = pytest.mark.django_db(transaction=True)

WORDING = "Also join Moonlit's mailing list"


@pytest.fixture
def customer(shop):
    return customer_get_or_create(shop=shop, email="fan@example.com")


def _request(shop, customer):
    return consent_request_create(
        shop=shop,
        customer=customer,
        source="release:1",
        wording=WORDING,
        ip_address="203.0.113.5",
        language="ko",
    )


def test_a_request_sends_its_own_email_and_grants_nothing(shop, customer, smtp_server, run_tasks):
    request = _request(shop, customer)
    run_tasks()
    assert not ConsentRecord.objects.exists()
    customer.refresh_from_db()
    assert customer.email_marketing is False
    [message] = smtp_server.messages
    assert message["To"] == "fan@example.com"
    assert f"/{shop.slug}/subscribe/{request.token}/" in smtp_server.bodies(message)


def test_confirming_records_the_proof_once(shop, customer, smtp_server):
    request = _request(shop, customer)
    record = consent_request_confirm(token=request.token, ip_address="198.51.100.2")
    again = consent_request_confirm(token=request.token, ip_address="198.51.100.3")
    assert again.pk == record.pk
    assert ConsentRecord.objects.count() == 1
    assert (record.granted, record.wording, record.source, record.ip_address) == (
        True,
        WORDING,
        "release:1",
        "198.51.100.2",
    )
    assert record.recorded_at is not None
    customer.refresh_from_db()
    assert customer.email_marketing is True
    assert Interaction.objects.filter(customer=customer, kind="consent").count() == 1


@pytest.mark.parametrize("token", ["", "nope", "x" * 500])
def test_an_unknown_token_is_not_found(token):
    with pytest.raises(NotFound):
        consent_request_confirm(token=token, ip_address=None)


def test_unsubscribing_through_the_signed_link(client, shop, customer, smtp_server):
    request = _request(shop, customer)
    consent_request_confirm(token=request.token, ip_address=None)
    url = unsubscribe_url(customer=customer).split("://", 1)[1].split("/", 1)[1]
    page = client.get("/" + url)
    assert page.status_code == 200
    assert not ConsentRecord.objects.filter(granted=False).exists()  # GET changes nothing
    client.post("/" + url, REMOTE_ADDR="192.0.2.8")
    withdrawal = ConsentRecord.objects.filter(granted=False).get()
    assert (withdrawal.source, withdrawal.ip_address) == ("unsubscribe_link", "192.0.2.8")
    customer.refresh_from_db()
    assert customer.email_marketing is False
    # A tampered link is a clear 404
    bad = reverse(
        "storefront:unsubscribe", args=[shop.slug, unsubscribe_token(customer=customer) + "x"]
    )
    assert client.get(bad).status_code == 404


def test_withdrawing_directly(shop, customer):
    record = marketing_consent_withdraw(
        shop=shop, customer=customer, source="dashboard", ip_address=None, wording="Staff"
    )
    assert record.granted is False


def test_a_failed_confirmation_email_is_sent_again_by_the_queue(
    shop, customer, smtp_server, run_tasks, settings
):
    """Given the mail server refusing connections, when the confirmation task runs, then it
    fails and the queue keeps it for a retry; when the server is back and the retry runs, the
    e-mail arrives. Nothing to send still answers False without raising."""
    import smtplib
    import socket

    from huey.contrib.djhuey import HUEY

    from kinfolk.crm.services.consent import consent_email_send

    working_port = settings.EMAIL_PORT
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        settings.EMAIL_PORT = closed.getsockname()[1]
    request = _request(shop, customer)
    with pytest.raises((OSError, smtplib.SMTPException)):
        consent_email_send(request_id=request.pk)
    run_tasks()
    assert not smtp_server.messages
    [retry] = HUEY.scheduled()
    assert retry.retries == 4
    settings.EMAIL_PORT = working_port
    HUEY.execute(retry, timestamp=retry.eta)  # a minute later
    [message] = smtp_server.messages
    assert f"/{shop.slug}/subscribe/{request.token}/" in smtp_server.bodies(message)
    consent_request_confirm(token=request.token, ip_address="198.51.100.2")
    assert consent_email_send(request_id=request.pk) is False
