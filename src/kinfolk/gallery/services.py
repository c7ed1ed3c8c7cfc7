"""Writes of the fan gallery: a fan submits a photo or video, staff approve or reject it.

A submission is checked whole before anything is stored (``inspection``): a refused file leaves
no row and no file. Files go to the private storage under a random name (the fan's own file name
may carry their name or a date); the row waits for review.

Each fan may send a shop at most ``GALLERY_UPLOADS_PER_DAY`` files in 24 hours and keep at most
``GALLERY_MAX_PENDING_BYTES`` waiting for review: counted from the database, under a lock on the
fan's customer row, so that no number of processes or simultaneous requests goes past them.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kinfolk.accounts.models import User
from kinfolk.catalog.selectors import products_active
from kinfolk.core import clock
from kinfolk.core.errors import InvalidInput
from kinfolk.crm.models import Customer, Interaction
from kinfolk.crm.services import customer_get_or_create, interaction_record
from kinfolk.gallery.inspection import MB, inspect_upload
from kinfolk.gallery.models import FanUpload
from kinfolk.gallery.selectors import pending_bytes_of_account, uploads_submitted_since
from kinfolk.shops.models import Shop

CAPTION_LENGTH = FanUpload._meta.get_field("caption").max_length
CREDIT_LENGTH = FanUpload._meta.get_field("credit").max_length
REASON_LENGTH = FanUpload._meta.get_field("rejection_reason").max_length
UPLOADS_PER_DAY = 20
MAX_PENDING_BYTES = 1024 * MB
# Refusals a fan can only wait out (the view answers 429 Too Many Requests).
QUOTA_CODES = frozenset({"daily_limit", "pending_limit"})


def uploads_per_day() -> int:
    return getattr(settings, "GALLERY_UPLOADS_PER_DAY", UPLOADS_PER_DAY)


def max_pending_bytes() -> int:
    return getattr(settings, "GALLERY_MAX_PENDING_BYTES", MAX_PENDING_BYTES)


def _check_daily_limit(*, shop: Shop, account: User) -> None:
    limit = uploads_per_day()
    since = clock.now() - timedelta(days=1)
    if uploads_submitted_since(shop=shop, account=account, since=since) >= limit:
        raise InvalidInput(
            ngettext(
                "You have sent this shop %(count)s photo or video in the last 24 hours, as many "
                "as a day allows. Please try again tomorrow.",
                "You have sent this shop %(count)s photos and videos in the last 24 hours, as "
                "many as a day allows. Please try again tomorrow.",
                limit,
            )
            % {"count": limit},
            field="file",
            code="daily_limit",
        )


def _check_pending_limit(*, shop: Shop, account: User, size: int) -> None:
    limit = max_pending_bytes()
    if pending_bytes_of_account(shop=shop, account=account) + size > limit:
        raise InvalidInput(
            _(
                "Your photos and videos waiting for the shop's review may take at most "
                "%(limit)s MB together, and this one does not fit. Please send it once the shop "
                "has looked at the others."
            )
            % {"limit": f"{limit / MB:.0f}"},
            field="file",
            code="pending_limit",
        )


def default_credit(account: User) -> str:
    """Return the name an upload is credited to unless the fan says otherwise: their first
    name, never their e-mail address."""
    return (account.name or "").strip().split(" ")[0][:CREDIT_LENGTH]


def _clean_text(value: str, *, length: int, field: str, label: str) -> str:
    value = " ".join((value or "").replace("\x00", "").split())
    if len(value) > length:
        raise InvalidInput(
            _("%(label)s may be at most %(count)s characters.") % {"label": label, "count": length},
            field=field,
        )
    return value


def _validate(
    *, shop: Shop, account: User, caption: str, credit: str, product_id: int | None, rights: bool
) -> tuple[str, str, object]:
    if not account.is_authenticated:
        raise InvalidInput(_("Log in to share a photo or video."), code="login_required")
    if not account.email_confirmed:
        raise InvalidInput(
            _("Confirm your e-mail address first, from the link in the e-mail sent to you."),
            code="unconfirmed",
        )
    caption = _clean_text(caption, length=CAPTION_LENGTH, field="caption", label=_("The caption"))
    credit = _clean_text(credit, length=CREDIT_LENGTH, field="credit", label=_("The credit"))
    product = None
    if product_id is not None:
        product = products_active(shop=shop).filter(pk=product_id).first()
        if product is None:
            raise InvalidInput(_("Choose one of the shop's products."), field="product")
    if not rights:
        raise InvalidInput(
            _("Confirm that you took this and that the shop may show it."), field="rights"
        )
    return caption, credit, product


@transaction.atomic
def upload_submit(
    *,
    shop: Shop,
    account: User,
    file,
    caption: str = "",
    credit: str = "",
    product_id: int | None = None,
    rights_confirmed: bool,
) -> FanUpload:
    """Check the fan's file, store it privately and return the new upload, waiting for review.

    Raises InvalidInput (``field`` names what to correct) with nothing stored.
    """
    caption, credit, product = _validate(
        shop=shop,
        account=account,
        caption=caption,
        credit=credit,
        product_id=product_id,
        rights=rights_confirmed,
    )
    if file is None:
        raise InvalidInput(_("Choose a photo or video."), field="file")
    # Checked before the file is read (a fan at the limit costs no decoding), and again below
    # under the lock, which is what holds against simultaneous requests.
    _check_daily_limit(shop=shop, account=account)
    inspected = inspect_upload(file)
    customer = customer_get_or_create(
        shop=shop, email=account.email, name=account.name, account=account
    )
    # One fan's submissions to one shop are counted and saved one at a time.
    Customer.objects.select_for_update().filter(pk=customer.pk).first()
    _check_daily_limit(shop=shop, account=account)
    _check_pending_limit(shop=shop, account=account, size=inspected.size)
    upload = FanUpload(
        shop=shop,
        customer=customer,
        account=account,
        product=product,
        kind=inspected.kind,
        content_type=inspected.content_type,
        size=inspected.size,
        width=inspected.width,
        height=inspected.height,
        caption=caption,
        credit=credit,
        submitted_at=clock.now(),
    )
    upload.file.save(
        f"{secrets.token_hex(16)}.{inspected.extension}", inspected.content, save=False
    )
    try:
        upload.save()
        interaction_record(
            shop=shop,
            customer=customer,
            kind=Interaction.Kind.UPLOAD,
            source=Interaction.Source.STOREFRONT,
            occurred_at=upload.submitted_at,
            subject_type="fan_upload",
            subject_id=upload.pk,
            data={"kind": upload.kind},
        )
    except BaseException:
        # The row is rolled back with the transaction; the stored file must go with it.
        upload.file.storage.delete(upload.file.name)
        raise
    return upload


def _moderate(*, upload: FanUpload, status: str, by: User | None, reason: str) -> FanUpload:
    upload.status = status
    upload.moderated_at = clock.now()
    upload.moderated_by = by if by is not None and by.is_authenticated else None
    upload.rejection_reason = reason
    upload.save(update_fields=["status", "moderated_at", "moderated_by", "rejection_reason"])
    return upload


@transaction.atomic
def upload_approve(*, shop: Shop, upload: FanUpload, by: User | None) -> FanUpload:
    """Show the upload in the shop's gallery and e-mail the fan (after commit) that it is."""
    upload = FanUpload.objects.select_for_update().get(shop=shop, pk=upload.pk)
    if upload.status == FanUpload.Status.APPROVED:
        return upload
    _moderate(upload=upload, status=FanUpload.Status.APPROVED, by=by, reason="")
    from kinfolk.gallery.tasks import upload_approved_notify

    upload_id = upload.pk
    transaction.on_commit(lambda: upload_approved_notify(upload_id))
    return upload


@transaction.atomic
def upload_reject(*, shop: Shop, upload: FanUpload, by: User | None, reason: str) -> FanUpload:
    """Keep the upload out of the gallery (or take it out), with the reason staff give."""
    reason = _clean_text(reason, length=REASON_LENGTH, field="reason", label=_("The reason"))
    if not reason:
        raise InvalidInput(_("Say why it is not shown (the fan may ask)."), field="reason")
    upload = FanUpload.objects.select_for_update().get(shop=shop, pk=upload.pk)
    return _moderate(upload=upload, status=FanUpload.Status.REJECTED, by=by, reason=reason)
