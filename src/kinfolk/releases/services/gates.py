"""The e-mail gate in front of a free download: a visitor asks with an address, confirms it from
the e-mailed link, and only then becomes a customer with a grant (and, if they ticked the
separate box, a pending mailing-list request that needs its own confirmation)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kinfolk.accounts.models import User, normalize_email
from kinfolk.core import clock
from kinfolk.core.errors import Conflict, InvalidInput, NotFound
from kinfolk.crm.models import Customer
from kinfolk.crm.services import customer_get_or_create
from kinfolk.crm.services.consent import consent_request_create
from kinfolk.releases.models import EmailGate, Grant, Release
from kinfolk.releases.selectors import release_is_free_now
from kinfolk.releases.services.grants import grant_give
from kinfolk.shops.models import Shop

# How often one request may be e-mailed again: a fan who mistyped nothing but lost the e-mail
# gets a fresh one, a script cannot turn the form into a mail cannon aimed at someone else.
RESEND_INTERVAL = dt.timedelta(minutes=1)
RESEND_WINDOW = dt.timedelta(days=1)
RESENDS_PER_WINDOW = 5
# An address that never confirms is forgotten after this long (``email_gates_purge``).
UNCONFIRMED_KEPT = dt.timedelta(days=7)
EMAIL_MAX_LENGTH = 254


class NoLongerFree(Conflict):
    """The release asked for is no longer free to get (made paid, or taken off sale) since the
    request: confirming grants nothing."""

    status = 410
    default_code = "no_longer_free"


class TooManyEmails(Conflict):
    """The gate's e-mail was sent too recently or too often; ``message`` says when to retry."""

    status = 429
    default_code = "too_many_emails"


@dataclass(frozen=True)
class Claim:
    """A confirmed free download: the customer, their grant, and whether this was the first
    confirmation (not a second click on the same link)."""

    customer: Customer
    grant: Grant
    first: bool
    gate: EmailGate | None = None


def release_is_free_to_get(release: Release, *, price: int) -> bool:
    """Return whether the release can be had for nothing (free, or pay what you want from 0)."""
    if release.is_free:
        return True
    return release.pricing == Release.Pricing.PAY_WHAT_YOU_WANT and price == 0


def inbox_key(email: str) -> str:
    """Return the inbox an address delivers to, for counting e-mails sent there: lower-case,
    without a ``+tag`` ("Fan+1@Example.com" and "fan+2@example.com" are one inbox)."""
    address = (email or "").strip().lower()
    if "@" not in address:
        return address
    local, domain = address.rsplit("@", 1)
    return f"{local.split('+', 1)[0]}@{domain}"


def email_clean(value: str) -> str:
    """Return the address normalised, or raise InvalidInput (field ``email``) when it is not one."""
    email = normalize_email(value or "")
    if not email:
        raise InvalidInput(_("Enter your e-mail address."), field="email")
    try:
        if len(email) > EMAIL_MAX_LENGTH or "\x00" in email:
            raise ValidationError("too long")
        validate_email(email)
    except ValidationError:
        raise InvalidInput(
            _("Enter a valid e-mail address, e.g. name@example.com."), field="email"
        ) from None
    return email


@transaction.atomic
def email_gate_request(
    *,
    shop: Shop,
    release: Release,
    email: str,
    wants_marketing: bool,
    marketing_wording: str,
    ip_address: str | None,
    language: str,
    referral_code: str = "",
) -> EmailGate:
    """Ask for ``release`` by e-mail: keep (or reuse) the request for this address and e-mail the
    confirmation link after commit.

    The same address asking again reuses its row, takes the latest choices and gets a fresh
    e-mail, at most once a minute and RESENDS_PER_WINDOW times a day (TooManyEmails).
    """
    if release.shop_id != shop.pk:
        raise NotFound(_("No such release."))
    email = email_clean(email)
    now = clock.now()
    gate = _gate_locked(release=release, email=email)
    if gate is None:
        try:
            with transaction.atomic():
                gate = EmailGate.objects.create(
                    shop=shop, release=release, email=email, requested_at=now
                )
        except IntegrityError:
            gate = _gate_locked(release=release, email=email)
    _check_resend(gate, now)
    if gate.last_sent_at is None or gate.last_sent_at <= now - RESEND_WINDOW:
        gate.sent_count = 0
    gate.sent_count += 1
    gate.last_sent_at = now
    gate.language = (language or "en")[:10]
    gate.ip_address = ip_address or None
    if gate.confirmed_at is None:
        # Before confirmation the latest answer counts (and the purge's week starts again);
        # after it, the choice was already acted on.
        gate.requested_at = now
        gate.wants_marketing = bool(wants_marketing)
        gate.marketing_wording = marketing_wording if wants_marketing else ""
    if referral_code and not gate.referral_code:
        gate.referral_code = referral_code[:32]
    gate.save()
    from kinfolk.releases.tasks import send_release_email

    gate_id = gate.pk
    transaction.on_commit(lambda: send_release_email("gate", str(gate_id)))
    return gate


def _gate_locked(*, release: Release, email: str) -> EmailGate | None:
    return (
        EmailGate.objects.select_for_update().filter(release=release, email__iexact=email).first()
    )


def _check_resend(gate: EmailGate, now: dt.datetime) -> None:
    if gate.last_sent_at is None:
        return
    if gate.last_sent_at > now - RESEND_INTERVAL:
        raise TooManyEmails(
            _(
                "We just sent the link to this address. Check your inbox (and spam folder); "
                "you can ask for another e-mail in a minute."
            )
        )
    if gate.last_sent_at > now - RESEND_WINDOW and gate.sent_count >= RESENDS_PER_WINDOW:
        raise TooManyEmails(
            _(
                "We have sent this link several times today. Check your inbox and spam folder, "
                "or try again tomorrow."
            )
        )


@transaction.atomic
def email_gate_confirm(*, shop: Shop, token: str, ip_address: str | None) -> Claim:
    """Confirm the address of the gate ``token``: make (or find) the customer, give the release,
    and, when the mailing-list box was ticked, ask for that choice's own confirmation.

    Idempotent: a second click returns the same grant and asks for nothing again.
    """
    gate = (
        EmailGate.objects.select_for_update()
        .select_related("release__product")
        .prefetch_related("release__product__variants")
        .filter(shop=shop, token=token[:64])
        .first()
    )
    if gate is None:
        raise NotFound(_("This link is not valid any more."))
    release = gate.release
    if gate.confirmed_at is None and not release_is_free_now(release):
        # Made paid or taken off sale after the request: the address asked for a free
        # download that no longer exists. A request confirmed before keeps its grant.
        raise NoLongerFree(
            _(
                "%(release)s is no longer free to download, so this link gives nothing. "
                "Its page shows how to get it now."
            )
            % {"release": release.product.name}
        )
    customer = customer_get_or_create(shop=shop, email=gate.email)
    grant = grant_give(shop=shop, release=release, customer=customer, source=Grant.Source.FREE)
    first = gate.confirmed_at is None
    if first:
        gate.confirmed_at = clock.now()
        gate.grant = grant
        gate.save(update_fields=["confirmed_at", "grant"])
        if gate.wants_marketing and gate.marketing_wording:
            consent_request_create(
                shop=shop,
                customer=customer,
                source=f"release:{release.pk}",
                wording=gate.marketing_wording,
                ip_address=gate.ip_address,
                language=gate.language,
            )
    return Claim(customer=customer, grant=grant, first=first, gate=gate)


@transaction.atomic
def free_claim(*, shop: Shop, release: Release, account: User) -> Claim:
    """Give a free release to a logged-in fan whose address is confirmed (no e-mail loop)."""
    if release.shop_id != shop.pk:
        raise NotFound(_("No such release."))
    if not account.is_authenticated or not account.email_confirmed:
        raise InvalidInput(_("Confirm your e-mail address first."), field="email")
    customer = customer_get_or_create(shop=shop, email=account.email, account=account)
    existed = Grant.objects.filter(release=release, customer=customer, order__isnull=True).exists()
    grant = grant_give(shop=shop, release=release, customer=customer, source=Grant.Source.FREE)
    return Claim(customer=customer, grant=grant, first=not existed)


@transaction.atomic
def email_gates_purge(*, now: dt.datetime | None = None) -> int:
    """Delete requests whose address was never confirmed within UNCONFIRMED_KEPT; return how
    many."""
    cutoff = (now or clock.now()) - UNCONFIRMED_KEPT
    deleted, _rows = EmailGate.objects.filter(
        confirmed_at__isnull=True, requested_at__lt=cutoff
    ).delete()
    return deleted
