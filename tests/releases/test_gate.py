"""The e-mail gate end to end through a real SMTP server: ask, read the real e-mail, confirm,
download; the same address twice; the mailing list only by its own confirmation; purging."""

from __future__ import annotations

import pytest
from django.urls import reverse
from tests.releases.conftest import SONG, body_of, link_in

from kinfolk.crm.models import ConsentRecord, ConsentRequest, Customer
from kinfolk.releases.models import Download, EmailGate, Grant
from kinfolk.releases.services import email_gates_purge

pytestmark = pytest.mark.django_db(transaction=True)


def _ask(client, shop, release, email: str, **extra):
    url = reverse("storefront:release-get", args=[shop.slug, release.product.slug])
    return client.post(url, {"email": email, **extra}, REMOTE_ADDR="203.0.113.9")


def test_a_fan_gets_a_free_song_through_the_email_gate(
    client, shop, free_release, smtp_server, run_tasks
):
    # Given a free, gated release and a visitor
    # When they give their address
    response = _ask(client, shop, free_release, "Fan@Example.com")
    # Then they are told to check their inbox, and nothing but the request is stored
    assert response.status_code == 200
    assert "Check your inbox" in response.content.decode()
    assert not Customer.objects.exists()
    gate = EmailGate.objects.get()
    assert (gate.email, gate.ip_address, gate.confirmed_at) == (
        "fan@example.com",
        "203.0.113.9",
        None,
    )
    # When the worker sends the e-mail through the real SMTP server
    run_tasks()
    [message] = smtp_server.messages
    assert message["To"] == "fan@example.com"
    confirm = link_in(body_of(message), "/releases/get/")
    # Then following the link (GET) only shows a button: a mail scanner confirms nothing
    page = client.get(confirm)
    assert page.status_code == 200 and "Confirm and download" in page.content.decode()
    assert not Grant.objects.exists()
    # When the fan presses it
    downloads = client.post(confirm)
    # Then they are a customer with a free grant and see their download link
    assert downloads.status_code == 200
    grant = Grant.objects.get()
    assert (grant.source, grant.customer.email) == ("free", "fan@example.com")
    link = next(link.token for link in downloads.context["links"])
    body = b"".join(
        client.get(reverse("storefront:release-download", args=[shop.slug, link])).streaming_content
    )
    assert body == SONG
    # And confirming twice changes nothing
    client.post(confirm)
    assert Grant.objects.count() == 1


def test_the_same_address_twice_reuses_its_request_and_sends_a_fresh_email(
    client, shop, free_release, smtp_server, run_tasks, moving_clock
):
    _ask(client, shop, free_release, "fan@example.com")
    moving_clock.advance(minutes=2)
    response = _ask(client, shop, free_release, "FAN@example.com ")
    run_tasks()
    assert response.status_code == 200
    assert EmailGate.objects.count() == 1
    assert len(smtp_server.messages) == 2
    assert EmailGate.objects.get().sent_count == 2


def test_resending_is_throttled_with_a_clear_message(
    client, shop, free_release, moving_clock, settings
):
    # The per-inbox hourly limit (on the real clock) is not what this test is about
    settings.RELEASES_GATE_RATE_PER_INBOX = "100/h"
    assert _ask(client, shop, free_release, "fan@example.com").status_code == 200
    again = _ask(client, shop, free_release, "fan@example.com")
    assert again.status_code == 429
    assert "in a minute" in again.content.decode()
    # Five a day at most
    for _ in range(4):
        moving_clock.advance(minutes=2)
        assert _ask(client, shop, free_release, "fan@example.com").status_code == 200
    moving_clock.advance(minutes=2)
    assert _ask(client, shop, free_release, "fan@example.com").status_code == 429
    moving_clock.advance(days=1)
    assert _ask(client, shop, free_release, "fan@example.com").status_code == 200


@pytest.mark.parametrize(
    "email", ["", "not-an-address", "a@b", "x" * 300 + "@example.com", "a\x00@b.com"]
)
def test_a_bad_address_is_refused_clearly_and_kept_in_the_form(client, shop, free_release, email):
    response = _ask(client, shop, free_release, email)
    assert response.status_code == 400
    assert "e-mail address" in response.content.decode()
    assert not EmailGate.objects.exists()


def test_ticking_the_box_alone_grants_nothing_until_its_own_confirmation(
    client, shop, free_release, smtp_server, run_tasks
):
    # Given a visitor who ticks the separate mailing-list box
    page = client.get(reverse("storefront:release", args=[shop.slug, free_release.product.slug]))
    html = page.content.decode()
    wording = f"Also join {shop.name}&#x27;s mailing list"
    assert wording in html
    assert 'name="marketing" value="1">' in html  # unticked
    _ask(client, shop, free_release, "fan@example.com", marketing="1")
    run_tasks()
    # When they confirm the download
    client.post(link_in(body_of(smtp_server.messages[0]), "/releases/get/"))
    # Then a mailing-list request waits, with the words shown, and nothing is granted yet
    request = ConsentRequest.objects.get()
    assert request.wording == f"Also join {shop.name}'s mailing list"
    assert request.source == f"release:{free_release.pk}"
    assert request.ip_address == "203.0.113.9"
    assert not ConsentRecord.objects.exists()
    assert Customer.objects.get().email_marketing is False
    # And its own confirmation arrives as a separate e-mail
    run_tasks()
    assert len(smtp_server.messages) == 2
    subscribe = link_in(body_of(smtp_server.messages[1]), "/subscribe/")
    assert "Yes, add me" in client.get(subscribe).content.decode()
    assert not ConsentRecord.objects.exists()
    # When they confirm it
    client.post(subscribe, REMOTE_ADDR="198.51.100.7")
    # Then the consent is recorded with its proof
    record = ConsentRecord.objects.get()
    assert (record.granted, record.source, record.ip_address) == (
        True,
        f"release:{free_release.pk}",
        "198.51.100.7",
    )
    assert record.wording == request.wording
    assert Customer.objects.get().email_marketing is True


def test_without_the_box_no_mailing_list_request_is_made(
    client, shop, free_release, smtp_server, run_tasks
):
    _ask(client, shop, free_release, "fan@example.com")
    run_tasks()
    client.post(link_in(body_of(smtp_server.messages[0]), "/releases/get/"))
    assert not ConsentRequest.objects.exists()
    assert len(smtp_server.messages) == 1


def test_a_never_confirmed_request_is_purged_and_its_link_offers_the_form(
    client, shop, free_release, smtp_server, run_tasks, moving_clock
):
    _ask(client, shop, free_release, "fan@example.com")
    run_tasks()
    confirm = link_in(body_of(smtp_server.messages[0]), "/releases/get/")
    moving_clock.advance(days=8)
    assert email_gates_purge() == 1
    assert not EmailGate.objects.exists()
    response = client.get(confirm)
    assert response.status_code == 404
    html = response.content.decode()
    assert "Send me the download link" in html
    assert "expired" in html
    # A confirmed request is kept
    _ask(client, shop, free_release, "kept@example.com")
    run_tasks()
    client.post(link_in(body_of(smtp_server.messages[-1]), "/releases/get/"))
    moving_clock.advance(days=30)
    assert email_gates_purge(now=moving_clock.now) == 0


def test_a_confirmed_fan_claims_in_one_click(client, shop, free_release, make_user):
    fan = make_user("member@example.com")
    client.force_login(fan)
    page = client.get(reverse("storefront:release", args=[shop.slug, free_release.product.slug]))
    assert 'name="email"' not in page.content.decode()
    response = client.post(
        reverse("storefront:release-get", args=[shop.slug, free_release.product.slug])
    )
    assert response.status_code == 200
    grant = Grant.objects.get()
    assert grant.customer.account == fan
    assert not EmailGate.objects.exists()


def test_an_ungated_release_downloads_without_asking(client, shop, make_release):
    release = make_release("Open Song", email_gate=False)
    response = client.post(
        reverse("storefront:release-get", args=[shop.slug, release.product.slug])
    )
    assert response.status_code == 200
    [link] = response.context["links"]
    body = b"".join(
        client.get(
            reverse("storefront:release-download", args=[shop.slug, link.token])
        ).streaming_content
    )
    assert body == SONG
    assert not Customer.objects.exists()
    # The download counts in the shop's figures, on nobody's timeline
    download = Download.objects.get()
    assert (download.release, download.grant, download.customer) == (release, None, None)


def test_unknown_release_or_inactive_product_is_404(client, shop, make_release):
    draft = make_release("Draft Song", status="draft")
    assert client.get(f"/{shop.slug}/releases/{draft.product.slug}/").status_code == 404
    assert client.get(f"/{shop.slug}/releases/nothing-here/").status_code == 404
    assert client.get(f"/{shop.slug}/releases/get/{'x' * 43}/").status_code == 404


def test_the_page_carries_open_graph_tags(client, shop, make_release):
    release = make_release(email_gate=False)
    html = client.get(f"/{shop.slug}/releases/{release.product.slug}/").content.decode()
    assert 'property="og:title"' in html and "twitter:card" in html
    assert "<audio" in html  # an ungated free release's audio plays on its page
    assert ">Free<" in html
