"""The fan's library across shops (a fixed number of queries), and the releases' part in
privacy requests: export, erasure (gates go, counts stay) and merges (duplicate free grants)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kinfolk.crm.services import customer_get_or_create
from kinfolk.crm.services.merges import customer_merge
from kinfolk.crm.services.privacy import customer_data_export, customer_erase
from kinfolk.releases.models import Download, DownloadAllowance, EmailGate, Grant
from kinfolk.releases.services import download_take, email_gate_request, grant_give

pytestmark = pytest.mark.django_db


def _library_of(fan, shops, make_release_in) -> None:
    for n, shop in enumerate(shops):
        customer = customer_get_or_create(shop=shop, email=fan.email, account=fan)
        for m in range(3):
            release = make_release_in(shop, f"Song {n}-{m}")
            grant_give(shop=shop, release=release, customer=customer, source="free")


@pytest.fixture
def make_release_in():
    from django.core.files.uploadedfile import SimpleUploadedFile
    from tests.releases.conftest import SONG

    from kinfolk.releases.services.setup import release_create, release_file_add

    def make(shop, name):
        release = release_create(shop=shop, name=name, status="active")
        for k in range(2):
            release_file_add(
                shop=shop,
                release=release,
                upload=SimpleUploadedFile(f"{name} {k}.wav", SONG, "audio/wav"),
            )
        return release

    return make


def test_the_library_lists_every_shops_grants_in_few_queries(
    client, make_shop, make_user, make_release_in, django_assert_max_num_queries
):
    # Given a fan with 3 releases of 2 files in each of 3 shops, one of them withdrawn
    fan = make_user("collector@example.com")
    shops = [make_shop() for _ in range(3)]
    _library_of(fan, shops, make_release_in)
    Grant.objects.filter(pk=Grant.objects.first().pk).update(revoked_at="2026-01-01T00:00Z")
    client.force_login(fan)
    # When the account page is shown
    with django_assert_max_num_queries(16):
        response = client.get(reverse("accounts:home"))
    # Then all nine show, each file with a download button except the withdrawn one's
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('class="library-grant') == 9
    assert html.count("/accounts/library/") == 16
    assert "is-revoked" in html


def test_export_erase_and_merge_reach_the_releases(shop, make_release_in):
    release = make_release_in(shop, "Private Song")
    email_gate_request(
        shop=shop,
        release=release,
        email="fan@example.com",
        wants_marketing=True,
        marketing_wording="Also join the list",
        ip_address="203.0.113.1",
        language="en",
    )
    customer = customer_get_or_create(shop=shop, email="fan@example.com")
    grant = grant_give(shop=shop, release=release, customer=customer, source="free")
    download_take(shop=shop, grant=grant, file=release.files.first())
    # Export
    data = customer_data_export(shop=shop, customer=customer)["releases"]
    assert [g["release"] for g in data["grants"]] == ["Private Song"]
    assert len(data["downloads"]) == 1
    assert data["download_requests"][0]["ip_address"] == "203.0.113.1"
    # Merge: a second record with its own free grant of the same release folds into the first
    twin = customer_get_or_create(shop=shop, email="fan.twin@example.com")
    twin_grant = grant_give(shop=shop, release=release, customer=twin, source="free")
    download_take(shop=shop, grant=twin_grant, file=release.files.first())
    download_take(shop=shop, grant=twin_grant, file=release.files.first())
    customer_merge(shop=shop, source=twin, target=customer)
    assert list(Grant.objects.values_list("pk", flat=True)) == [grant.pk]
    assert Download.objects.filter(grant=grant, customer=customer).count() == 3
    assert DownloadAllowance.objects.get(grant=grant, file=release.files.first()).used == 2
    # Erase: the request with address and IP goes, the counts stay
    customer.refresh_from_db()
    customer_erase(shop=shop, customer=customer, requested_by="staff")
    assert not EmailGate.objects.exists()
    assert Download.objects.count() == 3
    assert Grant.objects.count() == 1


def test_an_erased_person_no_longer_sees_the_grants_in_their_library(
    client, shop, make_user, make_release_in
):
    """Given a fan whose account holds a grant of a release (the grant linked to the account
    itself), when the shop erases their data, then the grant keeps no link to the account,
    their library lists nothing, and its download button is a 404 to them."""
    fan = make_user("erased@example.com")
    customer = customer_get_or_create(shop=shop, email=fan.email, account=fan)
    release = make_release_in(shop, "Forgotten Song")
    grant = grant_give(shop=shop, release=release, customer=customer, source="free")
    assert grant.account_id == fan.pk
    customer_erase(shop=shop, customer=customer, requested_by="staff")
    grant.refresh_from_db()
    assert grant.account_id is None and grant.customer.account_id is None
    client.force_login(fan)
    html = client.get(reverse("accounts:home")).content.decode()
    assert "Forgotten Song" not in html
    file = release.files.first()
    url = reverse("storefront:library-download", args=[grant.pk, file.pk])
    assert client.get(url).status_code == 404
    # The shop's figures keep the grant
    assert Grant.objects.filter(release=release).count() == 1
