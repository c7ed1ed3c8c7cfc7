"""The fan's sign-up and confirmation as the storefront sees them: the account, its
confirmation e-mail, and the shop's CRM record of a fan who joined from that shop."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

from kinfolk.accounts.models import User
from kinfolk.accounts.services import user_confirm_email, user_signup
from kinfolk.accounts.tokens import confirm_token_make, confirm_token_read
from kinfolk.core.errors import NotFound
from kinfolk.crm.models import Interaction
from kinfolk.crm.services import customer_get_or_create, customers_link_account, interaction_record
from kinfolk.shops.models import Shop
from kinfolk.shops.selectors import shop_get_open
from kinfolk.storefront import tasks


class FanConfirmed(NamedTuple):
    user: User
    shop: Shop | None  # the open shop the sign-up started from


@transaction.atomic
def fan_signup(
    *,
    email: str,
    password: str,
    name: str,
    language: str,
    confirm_url_for: Callable[[str], str],
    shop: Shop | None = None,
) -> User:
    """Create the fan's inactive account and e-mail them the confirmation link.

    ``confirm_url_for(token)`` returns the absolute link; ``shop`` is where the sign-up started,
    carried in the signed token so that the shop is credited once the address is confirmed.
    """
    user, password_hash = user_signup(email=email, password=password, name=name, language=language)
    token = confirm_token_make(
        user=user, password_hash=password_hash, extra={"shop": shop.slug} if shop else None
    )
    url = confirm_url_for(token)
    mail_language = user.preferred_language or language or settings.LANGUAGE_CODE
    # Sent by the worker, with retries: an unreachable mail server must not fail the sign-up.
    transaction.on_commit(
        lambda: tasks.send_confirmation_email(user_id=user.pk, url=url, language=mail_language)
    )
    return user


@transaction.atomic
def fan_confirm(*, token: str) -> FanConfirmed:
    """Activate the account, link the fan's earlier guest orders to it, and record on the
    timeline of the shop the sign-up started from that the fan created an account.

    Raises InvalidInput when the link is expired, altered or already used.
    """
    shop_slug = str(confirm_token_read(token)["x"].get("shop") or "")
    user = user_confirm_email(token=token)
    customers_link_account(account=user)
    if not shop_slug:
        return FanConfirmed(user=user, shop=None)
    try:
        shop = shop_get_open(slug=shop_slug)
    except NotFound:
        return FanConfirmed(user=user, shop=None)  # Closed meanwhile; the account stands alone.
    customer = customer_get_or_create(shop=shop, email=user.email, name=user.name, account=user)
    interaction_record(
        shop=shop,
        customer=customer,
        kind=Interaction.Kind.ACCOUNT_CREATED,
        source=Interaction.Source.STOREFRONT,
        subject_type="account",
        subject_id=user.pk,
    )
    return FanConfirmed(user=user, shop=shop)


@transaction.atomic
def confirmation_email_send(*, user_id: int, url: str, language: str) -> bool:
    """Send the confirmation link to the account's address in ``language``.

    Returns False (and sends nothing) when the account is gone or already confirmed.
    """
    user = User.objects.filter(pk=user_id).first()
    if user is None or user.email_confirmed:
        return False
    with translation.override(language):
        context = {"user": user, "url": url}
        subject = render_to_string("storefront/email/confirm_subject.txt", context)
        text = render_to_string("storefront/email/confirm.txt", context)
        html = render_to_string("storefront/email/confirm.html", context)
    send_mail(
        subject=" ".join(subject.split()),
        message=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[user.email],
        html_message=html,
    )
    return True
