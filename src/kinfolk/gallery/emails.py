"""The e-mail a fan gets when staff approve their photo or video."""

from __future__ import annotations

from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from kinfolk.gallery.models import FanUpload


def approved_email_send(*, upload_id: int) -> bool:
    """Send the "your photo is in the gallery" e-mail; return False when there is no one to tell
    (the upload was taken down meanwhile, or the person's data was erased)."""
    upload = (
        FanUpload.objects.select_related("shop", "customer", "account")
        .filter(pk=upload_id, status=FanUpload.Status.APPROVED)
        .first()
    )
    if upload is None:
        return False
    to = upload.customer.email or (upload.account.email if upload.account else "")
    if not to or upload.customer.erased_at is not None:
        return False
    shop = upload.shop
    language = upload.account.preferred_language if upload.account else ""
    with translation.override(language or settings.LANGUAGE_CODE):
        context = {
            "shop": shop,
            "upload": upload,
            "gallery_url": settings.BASE_URL + reverse("storefront:gallery", args=[shop.slug]),
            "LANGUAGE_CODE": translation.get_language(),
        }
        subject = render_to_string("gallery/email/approved_subject.txt", context).strip()
        text = render_to_string("gallery/email/approved.txt", context)
        html = render_to_string("gallery/email/approved.html", context)
    email = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=text,
        from_email=formataddr((shop.name, parseaddr(settings.DEFAULT_FROM_EMAIL)[1])),
        to=[to],
        headers={"Auto-Submitted": "auto-generated"},
    )
    email.attach_alternative(html, "text/html")
    email.send()
    return True
