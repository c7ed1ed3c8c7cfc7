"""The e-mail gate cannot be turned on someone's inbox (limits per IP address and per inbox,
plus tags folded, across releases and shops), and a confirmation link grants nothing once the
release is no longer free to get."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from tests.releases.conftest import SONG, body_of, link_in

from kinfolk.catalog.models import Product
from kinfolk.releases.models import EmailGate, Grant
from kinfolk.releases.services.gates import inbox_key
from kinfolk.releases.services.setup import release_create, release_file_add, release_update

pytestmark = pytest.mark.django_db(transaction=True)


def _ask(client, shop, release, email: str, ip: str = "203.0.113.9"):
    url = reverse("storefront:release-get", args=[shop.slug, release.product.slug])
    return client.post(url, {"email": email, "marketing": "1"}, REMOTE_ADDR=ip)


def test_plus_tags_and_case_fold_into_one_inbox():
    assert inbox_key("Victim+7@Gmail.com") == inbox_key("victim@gmail.com") == "victim@gmail.com"
    assert inbox_key("a+b+c@example.com") == "a@example.com"


def test_thirty_plus_tagged_requests_send_five_emails(
    client, shop, make_shop, make_release, smtp_server, run_tasks
):
    """Given two shops' gated releases, when a script posts victim+0..29@gmail.com from thirty
    IP addresses across them, then the inbox gets five e-mails; the rest get a 429 page that
    keeps the address typed and says why."""
    other_shop = make_shop()
    releases = [make_release("One"), make_release("Two")]
    third = release_create(shop=other_shop, name="Three", status="active")
    release_file_add(
        shop=other_shop, release=third, upload=SimpleUploadedFile("t.wav", SONG, "audio/wav")
    )
    targets = [(shop, releases[0]), (shop, releases[1]), (other_shop, third)]
    answers = []
    for n in range(30):
        target_shop, release = targets[n % 3]
        answers.append(
            _ask(client, target_shop, release, f"Victim+{n}@gmail.com", ip=f"198.51.100.{n}")
        )
    run_tasks()
    assert [a.status_code for a in answers] == [200] * 5 + [429] * 25
    assert len(smtp_server.messages) == 5
    refused = answers[5].content.decode()
    assert "sent to this inbox in the last hour" in refused
    assert 'value="Victim+5@gmail.com"' in refused
    assert "checked" in refused  # the mailing-list box stays ticked
    assert answers[5]["Retry-After"] == "3600"
    assert EmailGate.objects.count() == 5


def test_one_ip_address_gets_ten_emails_an_hour(client, shop, make_release, run_tasks):
    """Given one visitor, when they ask for eleven different inboxes, then ten are sent and the
    eleventh is a 429 naming their connection; a mistyped address never counts."""
    release = make_release()
    assert _ask(client, shop, release, "not-an-address").status_code == 400
    codes = [_ask(client, shop, release, f"fan{n}@example.com").status_code for n in range(11)]
    assert codes == [200] * 10 + [429]
    last = _ask(client, shop, release, "fan10@example.com")
    assert "from your connection" in last.content.decode()
    assert EmailGate.objects.count() == 10
    # Another visitor is not held back
    assert _ask(client, shop, release, "fan10@example.com", ip="192.0.2.1").status_code == 200


def _requested(client, shop, release, smtp_server, run_tasks) -> str:
    assert _ask(client, shop, release, "fan@example.com").status_code == 200
    run_tasks()
    return link_in(body_of(smtp_server.messages[-1]), "/releases/get/")


@pytest.mark.parametrize(
    "change",
    [
        {"pricing": "fixed", "price": 5000},
        {"pricing": "pwyw", "price": 1000},
        {"status": Product.Status.ARCHIVED},
    ],
)
def test_confirming_after_the_release_stopped_being_free_grants_nothing(
    client, shop, make_release, smtp_server, run_tasks, change
):
    """Given a request for a free release, when the release is made paid (or archived) and
    the link is then followed and confirmed, then a clear page says so and nothing is
    granted; the address stays unconfirmed."""
    release = make_release()
    confirm = _requested(client, shop, release, smtp_server, run_tasks)
    release_update(shop=shop, release=release, **_full(release, change))
    page = client.get(confirm)
    assert page.status_code == 410
    assert "is no longer free to download" in page.content.decode()
    response = client.post(confirm)
    assert response.status_code == 410
    assert "is no longer free to download" in response.content.decode()
    assert not Grant.objects.exists()
    assert EmailGate.objects.get().confirmed_at is None


def test_a_release_free_again_from_zero_still_confirms(
    client, shop, make_release, smtp_server, run_tasks
):
    """Given a request for a free release made pay-what-you-want from 0, then confirming still
    grants it (it is still free to get)."""
    release = make_release()
    confirm = _requested(client, shop, release, smtp_server, run_tasks)
    release_update(shop=shop, release=release, **_full(release, {"pricing": "pwyw", "price": 0}))
    assert client.post(confirm).status_code == 200
    assert Grant.objects.count() == 1


def _full(release, change: dict) -> dict:
    """Return every field release_update takes: the release's own, with ``change`` applied."""
    return {
        "name": release.product.name,
        "pricing": release.pricing,
        "price": None,
        "email_gate": release.email_gate,
        "download_limit": release.download_limit,
        "link_hours": release.link_hours,
        "status": release.product.status,
        **change,
    }
