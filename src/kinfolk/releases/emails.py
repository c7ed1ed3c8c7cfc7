"""Releases e-mails in the fan's language:

- "gate": the link that confirms the address a visitor gave for a free download (key: the
  request's id); following it gives the download;
- "links": fresh download links for a grant (key: the grant's id), sent to the grant's
  customer's own address when a link expired.

A request that is asked for again is e-mailed again (a fresh e-mail is the point); the gate
service limits how often.
"""

from __future__ import annotations

from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from kinfolk.releases.models import EmailGate, Grant
from kinfolk.releases.selectors import grant_links
from kinfolk.shops.models import Shop

KINDS = ("gate", "links")


def release_page_url(shop: Shop, slug: str) -> str:
    """Return the absolute link to a release's page."""
    return settings.BASE_URL + reverse("storefront:release", args=[shop.slug, slug])


def gate_confirm_url(gate: EmailGate) -> str:
    """Return the absolute link that confirms the gate's address."""
    path = reverse("storefront:release-confirm", args=[gate.shop.slug, gate.token])
    # The release named beside the token lets a link whose request was purged offer its form.
    return f"{settings.BASE_URL}{path}?r={gate.release.product.slug}"


def download_url(shop: Shop, token: str) -> str:
    """Return the absolute signed download link for ``token``."""
    return settings.BASE_URL + reverse("storefront:release-download", args=[shop.slug, token])


def release_email_send(*, kind: str, key: str) -> bool:
    """Send the ``kind`` e-mail about ``key``; return False when there is nothing to send."""
    if kind not in KINDS:
        raise ValueError(kind)
    if kind == "gate":
        gate = EmailGate.objects.select_related("shop", "release__product").filter(pk=key).first()
        if gate is None:
            return False
        context = {"gate": gate, "confirm_url": gate_confirm_url(gate)}
        return _send(gate.shop, gate.release.product, "gate", gate.email, gate.language, context)
    grant = (
        Grant.objects.select_related("shop", "release__product", "customer", "account")
        .filter(pk=key)
        .first()
    )
    if grant is None or grant.revoked_at is not None or not grant.customer.email:
        return False
    links = [
        {"file": link.file, "url": download_url(grant.shop, link.token), "left": link.remaining}
        for link in grant_links(grant)
    ]
    language = (grant.account.preferred_language if grant.account else "") or "en"
    context = {"grant": grant, "links": links, "hours": grant.release.link_hours}
    return _send(
        grant.shop, grant.release.product, "links", grant.customer.email, language, context
    )


def _send(shop: Shop, product, kind: str, to: str, language: str, context: dict) -> bool:
    with translation.override(language or "en"):
        context = {
            "shop": shop,
            "product": product,
            "release_url": release_page_url(shop, product.slug),
            "LANGUAGE_CODE": language,
            **context,
        }
        subject = render_to_string(f"releases/email/{kind}_subject.txt", context).strip()
        text = render_to_string(f"releases/email/{kind}.txt", context)
        html = render_to_string(f"releases/email/{kind}.html", context)
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
