"""Writes of the simulated processor: create, pay and refund charges, deliver signed callbacks."""

from __future__ import annotations

import json
import logging
import re
import uuid
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from kinfolk.core import clock
from kinfolk.core.errors import Conflict, InvalidInput, NotFound
from kinfolk.core.money import format_money, known_currencies
from kinfolk.core.prepared import insert
from kinfolk.testpay import cards, signature
from kinfolk.testpay.models import CallbackAttempt, Charge, Refund

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
    # One INSERT: in a caller's transaction it needs no savepoint of its own (a failure undoes
    # the caller's); alone, a transaction of its own (on SQLite, queued on the file lock).
    with transaction.atomic(savepoint=False):
        return insert(
            Charge(
                merchant_reference=merchant_reference,
                amount=amount,
                currency=currency,
                description=description,
                callback_url=callback_url,
                return_url=return_url,
                created_at=clock.now(),
            )
        )


def _locked_charge(charge_id: uuid.UUID | str) -> Charge:
    try:
        return Charge.objects.select_for_update().get(pk=charge_id)
    except (Charge.DoesNotExist, ValidationError, ValueError):
        raise NotFound(_("No such charge.")) from None


def charge_pay(
    *,
    charge_id: uuid.UUID | str,
    card_number: str,
    expiry: str,
    cvc: str,
    name: str,
    charge: Charge | None = None,
) -> Charge:
    """Decide the charge by the card entered and queue its callback; return the charge.

    A charge already decided is returned unchanged and queues nothing, so a double submit or a
    retried request is harmless. ``charge`` is that charge as the caller has just read it (its
    page), to save reading it again: the decision is taken by a conditional write all the same.
    """
    if charge is None or str(charge.pk) != str(charge_id):
        charge = _charge(charge_id)
    if charge.is_decided:
        return charge
    now = clock.now()
    number = cards.validated_card(
        card_number=card_number, expiry=expiry, cvc=cvc, name=name, today=now.date()
    )
    charge.decide(decline_reason=cards.TEST_CARDS.get(number, ""), card_last4=number[-4:], at=now)
    charge.card_closed = number == cards.CLOSED_CARD
    fields = ["status", "decline_reason", "card_last4", "decided_at", "event_id", "card_closed"]
    # Decided with one conditional UPDATE, the card checked before: the transaction (on SQLite
    # the database's one write lock) holds that statement only. A charge decided or voided by
    # another request meanwhile stays as that request left it.
    with transaction.atomic():
        decided = Charge.objects.filter(pk=charge.pk, status=Charge.Status.CREATED).update(
            **{field: getattr(charge, field) for field in fields}
        )
        if not decided:
            return _charge(charge.pk)
        deliveries = 2 if number == cards.DUPLICATE_CALLBACK_CARD else 1
        for _delivery in range(deliveries):
            transaction.on_commit(lambda: _enqueue_callback(charge))
    return charge


def _charge(charge_id: uuid.UUID | str) -> Charge:
    try:
        return Charge.objects.get(pk=charge_id)
    except (Charge.DoesNotExist, ValidationError, ValueError):
        raise NotFound(_("No such charge.")) from None


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


@transaction.atomic
def charge_card_reopen(*, charge_id: uuid.UUID | str) -> Charge:
    """Let refunds reach the charge's card again (its issuer reopened it); return the charge."""
    charge = _locked_charge(charge_id)
    if charge.card_closed:
        charge.card_closed = False
        charge.save(update_fields=["card_closed"])
    return charge


# Printable ASCII without spaces, as processors accept for idempotency keys.
_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,100}")


def _check_refund_input(*, amount: int, idempotency_key: str, reason: str) -> None:
    if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount <= MAX_AMOUNT:
        raise InvalidInput(_("The amount must be a positive whole number."), field="amount")
    if not isinstance(idempotency_key, str) or not _IDEMPOTENCY_KEY.fullmatch(idempotency_key):
        raise InvalidInput(
            _("The idempotency key must have 1 to 100 visible ASCII characters."),
            field="idempotency_key",
        )
    if len(reason) > 200:
        raise InvalidInput(_("The reason can have at most 200 characters."), field="reason")


def _charge_uuid(charge_id: uuid.UUID | str) -> uuid.UUID:
    try:
        return charge_id if isinstance(charge_id, uuid.UUID) else uuid.UUID(str(charge_id))
    except ValueError:
        raise NotFound(_("No such charge.")) from None


def _same_request(refund: Refund, *, charge_id: uuid.UUID, amount: int) -> Refund:
    """Return ``refund`` when it answers the same request, else raise Conflict."""
    if refund.charge_id != charge_id or refund.amount != amount:
        raise Conflict(
            _("This idempotency key was already used for another refund."),
            field="idempotency_key",
            code="idempotency_key_reused",
        )
    return refund


def refund_create(
    *, charge_id: uuid.UUID | str, amount: int, idempotency_key: str, reason: str = ""
) -> Refund:
    """Give ``amount`` minor units of an approved charge back to its card; return the refund.

    Answers at once, as a real processor's refund API does: the refund has succeeded, or failed
    with a ``failure_reason`` ("card_closed": the issuer closed the card). The merchant's
    ``idempotency_key`` names the refund: the same key again returns that refund and gives
    nothing back a second time (a failed one, which gave nothing, is tried again), and two
    requests racing with one key make one refund (the key is unique). A key used before for
    another charge or amount raises Conflict.

    Raises InvalidInput for a bad amount or one above what is left of the charge, Conflict for
    a charge that was not paid, NotFound for an unknown charge.
    """
    _check_refund_input(amount=amount, idempotency_key=idempotency_key, reason=reason)
    charge_uuid = _charge_uuid(charge_id)
    existing = Refund.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        _same_request(existing, charge_id=charge_uuid, amount=amount)
        if existing.succeeded:
            return existing
    try:
        return _refund_decide(
            charge_id=charge_uuid, amount=amount, idempotency_key=idempotency_key, reason=reason
        )
    except IntegrityError:
        # The same key arrived at once for another charge, whose lock this request did not wait
        # for: the unique key let one of them in.
        existing = Refund.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return _same_request(existing, charge_id=charge_uuid, amount=amount)


@transaction.atomic
def _refund_decide(
    *, charge_id: uuid.UUID, amount: int, idempotency_key: str, reason: str
) -> Refund:
    # The charge's lock queues every refund of the charge, so what is left is read once and
    # a request that waited for it sees the refund the one before it made with the same key.
    charge = _locked_charge(charge_id)
    refund = Refund.objects.select_for_update().filter(idempotency_key=idempotency_key).first()
    if refund is not None:
        _same_request(refund, charge_id=charge_id, amount=amount)
        if refund.succeeded:
            return refund
    if charge.status != Charge.Status.APPROVED:
        raise Conflict(_("Only a paid charge can be refunded."), code="not_paid")
    if amount > charge.refundable:
        raise InvalidInput(
            _("%(amount)s is more than is left to refund on this charge (%(left)s).")
            % {
                "amount": format_money(amount, charge.currency),
                "left": format_money(charge.refundable, charge.currency),
            },
            field="amount",
            code="over_refund",
        )
    now = clock.now()
    failure = cards.REFUND_CARD_CLOSED if charge.card_closed else ""
    status = Refund.Status.FAILED if failure else Refund.Status.SUCCEEDED
    if refund is None:
        refund = Refund.objects.create(
            charge=charge,
            amount=amount,
            currency=charge.currency,
            idempotency_key=idempotency_key,
            reason=reason,
            status=status,
            failure_reason=failure,
            created_at=now,
            decided_at=now,
        )
    else:
        refund.status, refund.failure_reason, refund.decided_at = status, failure, now
        refund.attempts += 1
        refund.save(update_fields=["status", "failure_reason", "decided_at", "attempts"])
    if not failure:
        # Under the charge's lock this always matches; the condition and the CHECK constraint
        # would refuse a refund beyond the charge all the same.
        taken = Charge.objects.filter(
            pk=charge.pk, amount_refunded__lte=F("amount") - amount
        ).update(amount_refunded=F("amount_refunded") + amount)
        if not taken:
            raise Conflict(_("This charge has nothing left to refund."), code="over_refund")
    return refund


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
