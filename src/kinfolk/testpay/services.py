"""Writes of the simulated processor: create and pay charges, deliver their signed callbacks."""

from __future__ import annotations

import json
import logging
import uuid
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kinfolk.core import clock
from kinfolk.core.errors import InvalidInput, NotFound
from kinfolk.core.money import known_currencies
from kinfolk.testpay import cards, signature
from kinfolk.testpay.models import CallbackAttempt, Charge

logger = logging.getLogger(__name__)

MAX_AMOUNT = 10**12
CALLBACK_TIMEOUT = 10.0


def _check_url(value: str, *, field: str) -> None:
    # Any http(s) URL with a host, as real processors accept: a merchant on an intranet or a
    # test server ("http://testserver/") has no dotted domain name.
    if len(value) > 500:
        raise InvalidInput(_("The URL can have at most 500 characters."), field=field)
    parts = urlsplit(value)
    if (
        parts.scheme not in {"http", "https"}
        or not parts.hostname
        or any(c.isspace() for c in value)
    ):
        raise InvalidInput(_("Enter a full http(s) URL."), field=field)


@transaction.atomic
def charge_create(
    *,
    merchant_reference: str,
    amount: int,
    currency: str,
    description: str,
    callback_url: str,
    return_url: str,
) -> Charge:
    """Create a charge of ``amount`` minor units waiting for a card on its hosted page."""
    if not merchant_reference or len(merchant_reference) > 100:
        raise InvalidInput(
            _("The merchant reference must have 1 to 100 characters."), field="merchant_reference"
        )
    if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount <= MAX_AMOUNT:
        raise InvalidInput(_("The amount must be a positive whole number."), field="amount")
    currency = (currency or "").upper()
    if currency not in known_currencies():
        raise InvalidInput(_("Unknown currency code."), field="currency")
    if len(description) > 200:
        raise InvalidInput(
            _("The description can have at most 200 characters."), field="description"
        )
    _check_url(callback_url, field="callback_url")
    _check_url(return_url, field="return_url")
    return Charge.objects.create(
        merchant_reference=merchant_reference,
        amount=amount,
        currency=currency,
        description=description,
        callback_url=callback_url,
        return_url=return_url,
        created_at=clock.now(),
    )


def _locked_charge(charge_id: uuid.UUID | str) -> Charge:
    try:
        return Charge.objects.select_for_update().get(pk=charge_id)
    except (Charge.DoesNotExist, ValidationError, ValueError):
        raise NotFound(_("No such charge.")) from None


@transaction.atomic
def charge_pay(
    *, charge_id: uuid.UUID | str, card_number: str, expiry: str, cvc: str, name: str
) -> Charge:
    """Decide the charge by the card entered and queue its callback; return the charge.

    A charge already decided is returned unchanged and queues nothing, so a double submit or a
    retried request is harmless.
    """
    charge = _locked_charge(charge_id)
    if charge.is_decided:
        return charge
    now = clock.now()
    number = cards.validated_card(
        card_number=card_number, expiry=expiry, cvc=cvc, name=name, today=now.date()
    )
    charge.decide(decline_reason=cards.TEST_CARDS.get(number, ""), card_last4=number[-4:], at=now)
    charge.save(update_fields=["status", "decline_reason", "card_last4", "decided_at", "event_id"])

    deliveries = 2 if number == cards.DUPLICATE_CALLBACK_CARD else 1
    for _delivery in range(deliveries):
        transaction.on_commit(lambda: _enqueue_callback(charge))
    return charge


@transaction.atomic
def charge_void(*, charge_id: uuid.UUID | str) -> Charge:
    """Withdraw a charge no card has paid yet, so that its page takes none; return the charge.

    A charge already paid or declined is returned unchanged (the merchant learns the outcome
    from its callback); voiding twice is harmless.
    """
    charge = _locked_charge(charge_id)
    if charge.is_decided:
        return charge
    charge.void(at=clock.now())
    charge.save(update_fields=["status", "decided_at"])
    return charge


def _enqueue_callback(charge: Charge) -> None:
    # Imported here: the task module imports this one.
    from kinfolk.testpay.tasks import deliver_callback

    deliver_callback(str(charge.pk), charge.event_id)


def callback_payload(charge: Charge) -> dict:
    """Return the JSON-ready event that tells the merchant how its charge was decided."""
    return {
        "id": charge.event_id,
        "type": f"charge.{charge.status}",
        "created": int(charge.decided_at.timestamp()),
        "charge": {
            "id": str(charge.pk),
            "reference": charge.merchant_reference,
            "amount": charge.amount,
            "currency": charge.currency,
            "status": charge.status,
            "decline_reason": charge.decline_reason,
            "card_last4": charge.card_last4,
        },
    }


def callback_deliver(*, charge_id: uuid.UUID | str, event_id: str) -> CallbackAttempt | None:
    """POST the signed event to the charge's callback URL once and record the attempt.

    Returns the attempt, or None when the charge or its event no longer exists. Not atomic: the
    attempt row must survive a failure, and no transaction should stay open across the request.
    """
    charge = Charge.objects.filter(pk=charge_id, event_id=event_id).first()
    if charge is None:
        logger.warning("testpay: no charge %s with event %s; callback dropped", charge_id, event_id)
        return None
    body = json.dumps(callback_payload(charge), separators=(",", ":")).encode()
    header = signature.sign(
        body, secret=settings.TESTPAY_SECRET, timestamp=int(clock.now().timestamp())
    )
    attempt = CallbackAttempt(
        charge=charge, event_id=event_id, url=charge.callback_url, attempted_at=clock.now()
    )
    # Redirects are not followed: as with real processors, a 3xx answer counts as a failure.
    try:
        response = httpx.post(
            charge.callback_url,
            content=body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": "Testpay/1.0",
                signature.SIGNATURE_HEADER: header,
            },
            timeout=CALLBACK_TIMEOUT,
        )
    except httpx.HTTPError as exc:
        attempt.error = f"{type(exc).__name__}: {exc}"[:500]
    else:
        attempt.status_code = response.status_code
    attempt.save()
    return attempt
