"""The releases pages: the list, a new release, its settings and its files, through real
requests with real files."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from tests.dashboard.factories import new_shop, new_user
from tests.releases.test_setup import PDF_BYTES, png_bytes, wav_bytes, zip_bytes

from kinfolk.catalog.models import Product, Variant
from kinfolk.core import clock
from kinfolk.crm.services.customers import customer_get_or_create
from kinfolk.releases.models import Download, Release, ReleaseFile
from kinfolk.releases.services import grant_give
from kinfolk.releases.services.setup import release_create, release_file_add

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    return new_user("owner@label.example")


@pytest.fixture
def usd_shop(owner):
    return new_shop(slug="garage-label", owner=owner, currency="USD")


@pytest.fixture
def krw_shop(owner):
    return new_shop(slug="seoul-label", owner=owner, currency="KRW", time_zone="Asia/Seoul")


@pytest.fixture
def logged_in(client, owner):
    client.force_login(owner)
    return client


def _new(shop, **fields):
    data = {
        "name": "Night Drive",
        "pricing": "free",
        "price": "",
        "suggested_price": "",
        "email_gate": "on",
        "download_limit": "5",
        "link_hours": "24",
        "status": "draft",
        **fields,
    }
    return data


def test_a_usd_pay_what_you_want_release_is_created_with_cents(logged_in, usd_shop):
    url = reverse("dashboard:release_new", kwargs={"shop": usd_shop.slug})
    response = logged_in.post(
        url, _new(usd_shop, pricing="pwyw", price="2.50", suggested_price="7")
    )
    release = Release.objects.get(shop=usd_shop)
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "dashboard:release", kwargs={"shop": usd_shop.slug, "release_id": release.pk}
    )
    assert Variant.objects.get(product=release.product).price == 250
    assert release.suggested_price == 700
    assert release.product.kind == Product.Kind.DIGITAL


def test_krw_prices_are_whole_won_and_decimals_are_refused_with_what_was_typed(logged_in, krw_shop):
    url = reverse("dashboard:release_new", kwargs={"shop": krw_shop.slug})
    refused = logged_in.post(
        url, _new(krw_shop, name="Paper Moons", pricing="fixed", price="3000.5")
    )
    assert refused.status_code == 400
    page = refused.content.decode()
    assert "whole numbers" in page and 'value="Paper Moons"' in page
    assert not Release.objects.filter(shop=krw_shop).exists()
    accepted = logged_in.post(url, _new(krw_shop, pricing="fixed", price="3,000"))
    assert accepted.status_code == 302
    release = Release.objects.get(shop=krw_shop)
    assert Variant.objects.get(product=release.product).price == 3000


def test_a_fixed_price_of_zero_is_explained_next_to_the_price(logged_in, usd_shop):
    url = reverse("dashboard:release_new", kwargs={"shop": usd_shop.slug})
    response = logged_in.post(url, _new(usd_shop, pricing="fixed", price="0"))
    assert response.status_code == 400
    assert response.context["form"].errors["price"]


def test_the_release_page_saves_its_settings(logged_in, usd_shop):
    release = release_create(shop=usd_shop, name="Night Drive")
    url = reverse("dashboard:release", kwargs={"shop": usd_shop.slug, "release_id": release.pk})
    assert logged_in.get(url).status_code == 200
    response = logged_in.post(
        url,
        _new(
            usd_shop,
            name="Night Drive",
            pricing="fixed",
            price="1.99",
            email_gate="",
            download_limit="3",
            link_hours="72",
            status="active",
        ),
    )
    assert response.status_code == 302
    release.refresh_from_db()
    release.product.refresh_from_db()
    assert (release.pricing, release.email_gate, release.download_limit, release.link_hours) == (
        "fixed",
        False,
        3,
        72,
    )
    assert release.product.status == "active"
    assert Variant.objects.get(product=release.product).price == 199


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("track.wav", wav_bytes(), "audio/wav"),
        ("cover.png", png_bytes(), "image/png"),
        ("booklet.pdf", PDF_BYTES, "application/pdf"),
        ("stems.zip", zip_bytes(), "application/zip"),
    ],
)
def test_uploading_real_files(logged_in, usd_shop, name, content, content_type):
    release = release_create(shop=usd_shop, name="Night Drive")
    url = reverse(
        "dashboard:release_file_add", kwargs={"shop": usd_shop.slug, "release_id": release.pk}
    )
    response = logged_in.post(url, {"file": SimpleUploadedFile(name, content), "role": "download"})
    assert response.status_code == 302
    row = ReleaseFile.objects.get(release=release)
    assert (row.name, row.content_type, row.size) == (name, content_type, len(content))


def test_a_renamed_text_file_is_refused_next_to_the_field(logged_in, usd_shop):
    release = release_create(shop=usd_shop, name="Night Drive")
    url = reverse(
        "dashboard:release_file_add", kwargs={"shop": usd_shop.slug, "release_id": release.pk}
    )
    fake = SimpleUploadedFile("song.mp3", b"hello, this is text\n" * 20, content_type="audio/mpeg")
    response = logged_in.post(url, {"file": fake, "role": "download"})
    assert response.status_code == 400
    assert "not one a release can hold" in response.context["file_form"].errors["file"][0]
    assert not ReleaseFile.objects.filter(release=release).exists()


def test_an_oversized_upload_is_refused(logged_in, usd_shop, settings):
    settings.RELEASE_MAX_FILE_BYTES = 100
    release = release_create(shop=usd_shop, name="Night Drive")
    url = reverse(
        "dashboard:release_file_add", kwargs={"shop": usd_shop.slug, "release_id": release.pk}
    )
    response = logged_in.post(
        url, {"file": SimpleUploadedFile("a.wav", wav_bytes()), "role": "download"}
    )
    assert response.status_code == 400
    assert "too large" in response.context["file_form"].errors["file"][0]
    assert not ReleaseFile.objects.filter(release=release).exists()


def test_remove_and_move_name_the_file_in_a_post_field_within_the_release(
    logged_in, usd_shop, django_capture_on_commit_callbacks
):
    release = release_create(shop=usd_shop, name="Night Drive")
    other = release_create(shop=usd_shop, name="Other")
    first, second = (
        release_file_add(
            shop=usd_shop,
            release=release,
            upload=SimpleUploadedFile(f"{n}.wav", wav_bytes(0.01)),
        )
        for n in (1, 2)
    )
    foreign = release_file_add(
        shop=usd_shop, release=other, upload=SimpleUploadedFile("x.wav", wav_bytes(0.01))
    )
    kwargs = {"shop": usd_shop.slug, "release_id": release.pk}
    logged_in.post(
        reverse("dashboard:release_file_move", kwargs=kwargs),
        {"file_id": second.pk, "move": "up"},
    )
    assert list(ReleaseFile.objects.filter(release=release).values_list("pk", flat=True)) == [
        second.pk,
        first.pk,
    ]
    remove = reverse("dashboard:release_file_remove", kwargs=kwargs)
    for bad in (foreign.pk, "abc", ""):
        assert logged_in.post(remove, {"file_id": bad}).status_code == 302
    assert ReleaseFile.objects.count() == 3
    with django_capture_on_commit_callbacks(execute=True):
        logged_in.post(remove, {"file_id": first.pk})
    assert list(ReleaseFile.objects.filter(release=release)) == [second]


def test_the_list_shows_price_files_and_downloads_in_few_queries(
    logged_in, usd_shop, django_assert_max_num_queries
):
    """Given ten releases with files and downloads, the list names each with its figures and
    its public page, in a fixed number of queries."""
    fan = customer_get_or_create(shop=usd_shop, email="fan@example.com")
    for n in range(10):
        release = release_create(
            shop=usd_shop, name=f"Song {n}", pricing="fixed", price=100 + n, status="active"
        )
        row = release_file_add(
            shop=usd_shop, release=release, upload=SimpleUploadedFile("a.wav", wav_bytes(0.01))
        )
        grant = grant_give(shop=usd_shop, release=release, customer=fan, source="staff")
        Download.objects.bulk_create(
            Download(
                shop=usd_shop,
                release=release,
                file=row,
                grant=grant,
                customer=fan,
                downloaded_at=clock.now(),
            )
            for _ in range(n)
        )
    url = reverse("dashboard:releases", kwargs={"shop": usd_shop.slug})
    with django_assert_max_num_queries(8):
        response = logged_in.get(url)
    page = response.content.decode()
    rows = {row["release"].product.name: row["release"] for row in response.context["rows"]}
    assert rows["Song 7"].download_count == 7 and rows["Song 7"].file_count == 1
    assert "$1.07" in page
    assert f"/{usd_shop.slug}/releases/song-7/" in page
