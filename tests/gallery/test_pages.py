"""The gallery's pages: the public gallery, the upload form, the files, and the moderation queue."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from kinfolk.crm import personal_data
from kinfolk.crm.models import Customer
from kinfolk.gallery.models import FanUpload
from kinfolk.gallery.services import upload_approve, upload_submit
from kinfolk.referrals.models import ShareLink
from tests.gallery.conftest import jpeg_with_gps, mp4_bytes, stored_files, upload_file

pytestmark = pytest.mark.django_db


def submit(shop, account, content=None, name="a.jpg", **extra):
    return upload_submit(
        shop=shop,
        account=account,
        file=upload_file(name, content or jpeg_with_gps()),
        rights_confirmed=True,
        **extra,
    )


def file_url(upload) -> str:
    return reverse("storefront:gallery-file", args=[upload.shop.slug, upload.pk])


def test_the_gallery_shows_approved_items_with_credit_and_share_link(
    client, shop, fan, staff, make_user, product, django_assert_max_num_queries
):
    """Given approved uploads of several fans (one about a product) and a pending one,
    when anyone opens the gallery,
    then the approved ones show with their credit, their fan's share link and the product's
    link, the pending one does not, and the page's queries do not grow with its items."""
    shown = submit(shop, fan, credit="Mina", caption="Front row", product_id=product.pk)
    upload_approve(shop=shop, upload=shown, by=staff)
    for n in range(5):
        other = make_user(f"fan{n}@example.com", name=f"Fan {n}")
        upload_approve(shop=shop, upload=submit(shop, other, credit=f"Fan {n}"), by=staff)
    hidden = submit(shop, make_user("late@example.com"), caption="Not yet")
    client.get(reverse("storefront:gallery", args=[shop.slug]))  # share links made once

    with django_assert_max_num_queries(8):
        response = client.get(reverse("storefront:gallery", args=[shop.slug]))

    assert response.status_code == 200
    html = response.content.decode()
    code = ShareLink.objects.get(shop=shop, customer=shown.customer).code
    assert f"?via={code}" in html
    assert "Mina" in html and "Front row" in html
    assert reverse("storefront:product", args=[shop.slug, product.slug]) in html
    assert file_url(shown) in html and file_url(hidden) not in html and "Not yet" not in html
    assert html.count("?via=") == 6


def test_pending_files_are_hidden_from_everyone_but_the_shops_staff(
    client, shop, fan, staff, make_shop, make_user
):
    """Given a pending upload,
    when the public, the fan, another shop's staff and the shop's staff ask for its file,
    then only the shop's staff get it; once approved, everyone does."""
    upload = submit(shop, fan)
    other_owner = make_user("owner@elsewhere.example")
    make_shop("elsewhere", owner=other_owner)

    assert client.get(file_url(upload)).status_code == 404
    client.force_login(fan)
    assert client.get(file_url(upload)).status_code == 404
    client.force_login(other_owner)
    assert client.get(file_url(upload)).status_code == 404
    other_dashboard = reverse(
        "dashboard:gallery_file", kwargs={"shop": shop.slug, "upload_id": upload.pk}
    )
    assert client.get(other_dashboard).status_code == 404
    client.force_login(staff)
    response = client.get(file_url(upload))
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert client.get(other_dashboard).status_code == 200

    upload_approve(shop=shop, upload=upload, by=staff)
    client.logout()
    response = client.get(file_url(upload))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"


def test_a_video_is_served_by_ranges(client, shop, fan, staff):
    """Given an approved video, when a player asks for a range, then it gets 206 with exactly
    those bytes; a range past the end gets 416."""
    content = mp4_bytes()
    upload = submit(shop, fan, content, name="clip.mp4")
    upload_approve(shop=shop, upload=upload, by=staff)

    response = client.get(file_url(upload), headers={"Range": "bytes=4-11"})
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 4-11/{len(content)}"
    assert b"".join(response.streaming_content) == content[4:12] == b"ftypmp42"
    whole = client.get(file_url(upload))
    assert whole["Accept-Ranges"] == "bytes"
    assert b"".join(whole.streaming_content) == content
    assert client.get(file_url(upload), headers={"Range": "bytes=999-"}).status_code == 416


def test_a_visitor_is_asked_to_log_in_before_uploading(client, shop):
    """Given a visitor, when they open the upload page, then they are offered to log in with
    the way back to it."""
    response = client.get(reverse("storefront:gallery-upload", args=[shop.slug]))
    assert response.status_code == 200
    assert "next=%2Fmoonlit%2Fgallery%2Fupload%2F" in response.content.decode()
    assert b'type="file"' not in response.content


def test_the_upload_form_stores_a_photo_and_refuses_a_fake(client, shop, fan):
    """Given a logged-in fan,
    when they post a renamed text file, then the form comes back with the message next to the
    file field, their caption kept, and nothing stored;
    when they post a real photo, then it waits for review."""
    client.force_login(fan)
    url = reverse("storefront:gallery-upload", args=[shop.slug])
    assert 'value="Mina"' in client.get(url).content.decode()  # the credit's default
    before = stored_files()

    refused = client.post(
        url,
        {
            "file": upload_file("x.jpg", b"hello, I am text"),
            "caption": "Encore night",
            "credit": "Mina",
            "rights": "on",
        },
    )
    assert refused.status_code == 400
    html = refused.content.decode()
    assert 'id="file-error"' in html and "Encore night" in html
    assert not FanUpload.objects.exists() and stored_files() == before

    sent = client.post(
        url,
        {"file": upload_file("y.jpg", jpeg_with_gps()), "caption": "Encore", "rights": "on"},
    )
    assert sent.status_code == 303
    assert FanUpload.objects.get().status == FanUpload.Status.PENDING


@pytest.mark.django_db(transaction=True)
def test_moderation_approves_with_an_email_and_rejects_with_a_reason(
    client,
    shop,
    fan,
    staff,
    run_tasks,
    django_assert_max_num_queries,
    make_user,
):
    """Given pending uploads,
    when staff open the queue, then they see them (with a bounded number of queries);
    when they reject one without a reason, then they are asked for one and nothing changes;
    when they approve one, then it is approved by them and the fan is e-mailed;
    when they then take it down with a reason, then it is rejected with it."""
    upload = submit(shop, fan, caption="Stage dive")
    for n in range(4):
        submit(shop, make_user(f"q{n}@example.com"))
    client.force_login(staff)
    queue = reverse("dashboard:gallery", kwargs={"shop": shop.slug})
    with django_assert_max_num_queries(12):
        page = client.get(queue)
    assert page.status_code == 200 and "Stage dive" in page.content.decode()
    moderate = reverse(
        "dashboard:gallery_moderate", kwargs={"shop": shop.slug, "upload_id": upload.pk}
    )

    refused = client.post(moderate, {"decision": "reject", "reason": "  "})
    assert refused.status_code == 400
    upload.refresh_from_db()
    assert upload.status == FanUpload.Status.PENDING

    mail.outbox.clear()
    assert client.post(moderate, {"decision": "approve"}).status_code == 302
    upload.refresh_from_db()
    assert (upload.status, upload.moderated_by_id) == (FanUpload.Status.APPROVED, staff.pk)
    assert upload.moderated_at is not None
    run_tasks()
    assert [message.to for message in mail.outbox] == [[fan.email]]
    assert reverse("storefront:gallery", args=[shop.slug]) in mail.outbox[0].body

    client.post(moderate, {"decision": "reject", "reason": "Not from our show"})
    upload.refresh_from_db()
    assert upload.status == FanUpload.Status.REJECTED
    assert upload.rejection_reason == "Not from our show"
    assert client.get(file_url(upload)).status_code == 200  # staff still see it
    client.logout()
    assert client.get(file_url(upload)).status_code == 404


def test_personal_data_export_erase_and_merge(
    shop, fan, staff, make_user, django_capture_on_commit_callbacks
):
    """Given a fan's uploads,
    then their export lists them; a merge moves them; an erasure deletes rows and files."""
    upload = submit(shop, fan, caption="Hello")
    handler = {h.name: h for h in personal_data.handlers()}["gallery"]
    customer = upload.customer

    exported = handler.export(shop, customer)
    assert [item["caption"] for item in exported] == ["Hello"]

    other = Customer.objects.create(
        shop=shop, email="dup@example.com", created_at=customer.created_at
    )
    assert handler.merge(shop, customer, other) == 1
    upload.refresh_from_db()
    assert upload.customer_id == other.pk

    path = upload.file.path
    with django_capture_on_commit_callbacks(execute=True):
        assert handler.erase(shop, other) == 1
    assert not FanUpload.objects.exists()
    assert path not in stored_files()


def test_an_approved_file_is_kept_by_no_shared_cache(client, shop, fan, staff):
    """Given an approved photo,
    when anyone fetches it, then only their own browser may keep it, for five minutes (a shared
    cache such as a CDN may not, so a take-down or erasure stops it being served at once);
    once it is taken down, it is gone (404)."""
    from kinfolk.gallery.services import upload_reject

    upload = submit(shop, fan)
    upload_approve(shop=shop, upload=upload, by=staff)

    response = client.get(file_url(upload))
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, max-age=300"
    assert "public" not in response["Cache-Control"] and "s-maxage" not in response["Cache-Control"]
    ranged = client.get(file_url(upload), headers={"Range": "bytes=0-1"})
    assert ranged.status_code == 206 and ranged["Cache-Control"] == "private, max-age=300"

    upload_reject(shop=shop, upload=upload, by=staff, reason="Taken down at the fan's request")
    assert client.get(file_url(upload)).status_code == 404
