"""Refunds: money of a paid order given back to the fan through its payment's provider.

``lifecycle.order_refund`` decides a refund: in its short transaction it records a ``Refund``
as requested (and, for all that is left, the order's move to refunded). After commit the worker
asks the provider (``refund_send``, run by ``orders.tasks.send_refund``, retried on network
errors) and records its answer: succeeded, pending (a bank transfer staff send by hand and then
mark sent) or failed (staff may try again). Every ask carries the refund's idempotency key, so a
retried task, a "Try again" or two workers at once give the money back once.

A partial refund is recorded on the fan's CRM timeline as ``order_partially_refunded`` when it is
decided (a refund in full is the order's ``order_refunded``, recorded by ``order_refund``). Once
the money is back (the provider said so, or staff marked a bank transfer sent) the fan is
e-mailed, once per refund (``orders.emails``, kind "refunded"), unless the refund says not to
(``Refund.tell_fan``).

Locks: the order's row first, then the payment's, as every other order write does.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from functools import partial

from django.db import transaction
from django.db.models import F, Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kinfolk.core import clock
from kinfolk.core.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from kinfolk.core.money import format_money
from kinfolk.crm.models import Interaction
from kinfolk.crm.services import interaction_record
from kinfolk.orders import tasks
from kinfolk.orders.models import Order, OrderEvent, Payment, Refund
from kinfolk.orders.notes import system_note
from kinfolk.orders.payments import RefundResult, get_provider
from kinfolk.orders.services.lifecycle import order_lock
from kinfolk.shops.models import Shop

logger = logging.getLogger(__name__)

# Notes in the order's history, stored in English and shown in the reader's language.
PARTIAL_REFUND_NOTE = system_note(gettext_noop("Part of the payment is being refunded"))
REFUND_SUCCEEDED_NOTE = system_note(gettext_noop("Refund completed: the money is back"))
REFUND_PENDING_NOTE = system_note(gettext_noop("Refund pending"))
REFUND_FAILED_NOTE = system_note(gettext_noop("Refund failed"))
REFUND_RETRIED_NOTE = system_note(gettext_noop("Refund tried again"))
REFUND_MARKED_SENT_NOTE = system_note(gettext_noop("Refund marked as sent"))
# The provider's messages when it could not be asked at all.
PROVIDER_UNREACHABLE_NOTE = system_note(
    gettext_noop("The payment provider could not be reached. Try again later.")
)
PROVIDER_DISABLED_NOTE = system_note(
    gettext_noop("This payment provider is no longer enabled: return the money yourself.")
)
NO_REFUND_METHOD_NOTE = system_note(
    gettext_noop("Return the money through your payment provider, then mark the refund as sent.")
)

# A refund still unanswered this long after it was asked is asked again (``refunds_resend``):
# its task was lost (the queue was down when the order committed).
RESEND_AFTER = dt.timedelta(minutes=15)


def new_idempotency_key() -> str:
    """Return a fresh key for a refund (also put in the dashboard's refund form)."""
    return f"rf_{uuid.uuid4().hex}"


def _check_key(idempotency_key: str) -> None:
    if len(idempotency_key) > 64 or not idempotency_key.isascii():
        raise InvalidInput(_("This form has expired; please submit it again."), code="no_key")


def refund_already_made(*, order: Order, idempotency_key: str) -> bool:
    """Return whether ``idempotency_key`` made a refund of ``order`` already (a repeated submit);
    raise Conflict when it made one of another order."""
    if not idempotency_key:
        return False
    _check_key(idempotency_key)
    order_id = (
        Refund.objects.filter(idempotency_key=idempotency_key)
        .values_list("order_id", flat=True)
        .first()
    )
    if order_id is None:
        return False
    if order_id != order.pk:
        raise Conflict(_("This form has expired; please submit it again."), code="key_reused")
    return True


def refundable_payment(order: Order) -> Payment | None:
    """Return the order's approved payment locked for the transaction (None when it has none:
    an order marked paid without one). Call with the order locked."""
    return (
        Payment.objects.select_for_update()
        .filter(order=order, status=Payment.Status.APPROVED)
        .order_by("pk")
        .first()
    )


def refund_amount(*, order: Order, payment: Payment | None, amount: int | None) -> tuple[int, bool]:
    """Return the amount to refund (``None``: all that is left) and whether that is all that is
    left (the order is then refunded in full); raise for an order that cannot be refunded or an
    amount that is not more than zero or is above what is left."""
    if not order.can_transition_to(Order.Status.REFUNDED):
        raise InvalidTransition(
            _("An order that is %(status)s cannot be refunded.")
            % {"status": order.get_status_display().lower()}
        )
    left = payment.refundable if payment is not None else 0
    if amount is None:
        return left, True
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise InvalidInput(_("Enter an amount of more than zero."), field="amount")
    if amount > left:
        raise InvalidInput(
            _("%(amount)s is more than is left to refund on this order (%(left)s).")
            % {
                "amount": format_money(amount, order.currency),
                "left": format_money(left, order.currency),
            },
            field="amount",
            code="over_refund",
        )
    return amount, amount == left


def _event(order: Order, note: str, *, actor=None) -> None:
    """Leave a row in the order's history for a refund's change (the order's status stays)."""
    OrderEvent.objects.create(
        order=order,
        to_status=order.status,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        actor_label=str(actor) if getattr(actor, "is_authenticated", False) else "system",
        note=note,
        created_at=clock.now(),
    )


def refund_request(
    *,
    order: Order,
    payment: Payment | None,
    amount: int,
    full: bool,
    actor=None,
    reason: str = "",
    idempotency_key: str = "",
    tell_fan: bool | None = None,
) -> Refund | None:
    """Record a refund of ``amount`` of ``payment`` as requested and ask its provider after
    commit; return it (None when there is no money to give back). ``tell_fan``: whether the fan
    is e-mailed once the money is back (None: when staff, the ``actor``, decided it).

    Runs inside ``order_refund``'s transaction, with the order and the payment locked.
    """
    now = clock.now()
    if payment is None or amount == 0:
        if payment is not None and payment.amount == 0:
            # Nothing was paid, so the whole of it is back already.
            payment.status, payment.updated_at = Payment.Status.REFUNDED, now
            payment.save(update_fields=["status", "updated_at"])
        return None
    # Under the order's lock this always matches; the condition and the CHECK constraint refuse
    # a refund beyond the payment all the same.
    taken = Payment.objects.filter(pk=payment.pk, refund_total__lte=F("amount") - amount).update(
        refund_total=F("refund_total") + amount, updated_at=now
    )
    if not taken:
        raise Conflict(_("Nothing is left to refund on this order."), code="over_refund")
    authenticated = getattr(actor, "is_authenticated", False)
    refund = Refund.objects.create(
        shop=order.shop,
        order=order,
        payment=payment,
        amount=amount,
        currency=payment.currency,
        provider=payment.provider,
        idempotency_key=idempotency_key or new_idempotency_key(),
        reason=reason[:500],
        requested_by=actor if authenticated else None,
        requested_by_label=str(actor) if authenticated else "system",
        tell_fan=authenticated if tell_fan is None else tell_fan,
        created_at=now,
        updated_at=now,
    )
    if not full:
        _event(order, PARTIAL_REFUND_NOTE, actor=actor)
        _record_partial(order, refund, authenticated=authenticated)
    # Robust: the refund stands either way; a lost task is sent again by ``refunds_resend``.
    transaction.on_commit(partial(tasks.send_refund, refund.pk), robust=True)
    return refund


def _record_partial(order: Order, refund: Refund, *, authenticated: bool) -> None:
    """Put a partial refund on the fan's timeline: the order still counts as a purchase (only
    ``order_refunded`` withdraws one) and it is no action of the fan's, so no stage moves."""
    interaction_record(
        shop=order.shop,
        customer=order.customer,
        kind=Interaction.Kind.ORDER_PARTIALLY_REFUNDED,
        source=Interaction.Source.DASHBOARD if authenticated else Interaction.Source.SYSTEM,
        occurred_at=refund.created_at,
        subject_type="order",
        subject_id=order.number,
        data={
            "amount": refund.amount,
            "currency": refund.currency,
            "number": order.number,
            "refund_id": refund.pk,
        },
        defer_stage=True,
    )


def _tell_fan(refund: Refund) -> None:
    """E-mail the fan that the refund's money is back, after commit.

    Once per refund however often this runs: the e-mail is claimed in ``OrderMessage`` under the
    refund's id before it is sent. Robust: the refund stands even if the queue is down.
    """
    transaction.on_commit(
        partial(tasks.send_order_email, refund.order_id, "refunded", str(refund.pk)), robust=True
    )


def refund_send(*, refund_id: int) -> Refund | None:
    """Ask the provider to give a requested refund's money back and record its answer; return
    the refund (None when it no longer exists).

    Not atomic: the provider is asked outside any transaction. A refund already answered is
    returned as it is, so a retried task asks nothing. Raises what the provider raises (the
    network), for the task to retry.
    """
    refund = Refund.objects.select_related("payment__order").filter(pk=refund_id).first()
    if refund is None or refund.status != Refund.Status.REQUESTED:
        return refund
    try:
        provider = get_provider(refund.provider)
    except InvalidInput:
        result = RefundResult(RefundResult.FAILED, message=PROVIDER_DISABLED_NOTE)
    else:
        ask = getattr(provider, "refund", None)
        if ask is None:
            result = RefundResult(RefundResult.PENDING, message=NO_REFUND_METHOD_NOTE)
        else:
            result = ask(
                payment=refund.payment,
                amount=refund.amount,
                idempotency_key=refund.idempotency_key,
            )
    return refund_record_answer(refund_id=refund.pk, result=result)


def _locked_refund(shop: Shop, refund_id: int) -> tuple[Order, Refund]:
    """Return the refund and its order, both locked (the order first)."""
    order_id = (
        Refund.objects.filter(pk=refund_id, shop=shop).values_list("order_id", flat=True).first()
    )
    if order_id is None:
        raise NotFound(_("This refund does not exist."))
    order = order_lock(shop=shop, order_id=order_id)
    return order, Refund.objects.select_for_update().get(pk=refund_id)


def _succeed(refund: Refund, *, now: dt.datetime) -> None:
    """Mark the refund done and tell the fan after commit (unless told otherwise); the payment
    is refunded once all of its amount is back."""
    refund.transition_to(Refund.Status.SUCCEEDED)
    refund.refunded_at = now
    if refund.tell_fan:
        _tell_fan(refund)
    payment = Payment.objects.select_for_update().get(pk=refund.payment_id)
    back = (
        payment.refunds.filter(status=Refund.Status.SUCCEEDED)
        .exclude(pk=refund.pk)
        .aggregate(total=Sum("amount"))["total"]
        or 0
    ) + refund.amount
    if back >= payment.amount and payment.status == Payment.Status.APPROVED:
        payment.status, payment.updated_at = Payment.Status.REFUNDED, now
        payment.save(update_fields=["status", "updated_at"])


@transaction.atomic
def refund_record_answer(*, refund_id: int, result: RefundResult) -> Refund:
    """Record the provider's answer to a requested refund; return the refund.

    An answer to a refund no longer requested (another worker recorded it first) changes nothing.
    """
    shop = Refund.objects.select_related("shop").get(pk=refund_id).shop
    order, refund = _locked_refund(shop, refund_id)
    if refund.status != Refund.Status.REQUESTED:
        return refund
    now = clock.now()
    refund.attempts += 1
    refund.provider_reference = (result.reference or refund.provider_reference)[:100]
    refund.message = str(result.message)[:500]
    refund.updated_at = now
    if result.succeeded:
        _succeed(refund, now=now)
        note = REFUND_SUCCEEDED_NOTE
    elif result.pending:
        refund.transition_to(Refund.Status.PENDING)
        note = REFUND_PENDING_NOTE
    else:
        refund.transition_to(Refund.Status.FAILED)
        note = REFUND_FAILED_NOTE
    refund.save()
    _event(order, note)
    return refund


def refund_fail_unreachable(*, refund_id: int, error: str = "") -> Refund | None:
    """Record that the provider could not be asked after every retry, so that staff see the
    refund failed and may try again; return it (None when it no longer exists)."""
    if not Refund.objects.filter(pk=refund_id).exists():
        return None
    logger.warning("refund %s: provider unreachable: %s", refund_id, error)
    return refund_record_answer(
        refund_id=refund_id,
        result=RefundResult(RefundResult.FAILED, message=PROVIDER_UNREACHABLE_NOTE),
    )


@transaction.atomic
def refund_retry(*, shop: Shop, refund_id: int, actor=None) -> Refund:
    """Ask the provider again for a failed refund, with the same idempotency key (so the money
    goes back once even if the first answer was lost); return the refund.

    Raises NotFound for another shop's refund, InvalidTransition for one that did not fail.
    """
    order, refund = _locked_refund(shop, refund_id)
    if refund.status != Refund.Status.FAILED:
        raise InvalidTransition(
            _("Only a failed refund can be tried again; this one is %(status)s.")
            % {"status": refund.get_status_display().lower()}
        )
    refund.transition_to(Refund.Status.REQUESTED)
    refund.updated_at = clock.now()
    refund.save(update_fields=["status", "updated_at"])
    _event(order, REFUND_RETRIED_NOTE, actor=actor)
    transaction.on_commit(partial(tasks.send_refund, refund.pk), robust=True)
    return refund


@transaction.atomic
def refund_mark_sent(*, shop: Shop, refund_id: int, actor=None) -> Refund:
    """Record that staff gave a pending (or failed) refund's money back themselves, by bank
    transfer or through the provider's own console; return the refund.

    Raises NotFound for another shop's refund, InvalidTransition for one not waiting for that.
    """
    order, refund = _locked_refund(shop, refund_id)
    if refund.status not in (Refund.Status.PENDING, Refund.Status.FAILED):
        raise InvalidTransition(
            _("Only a pending or failed refund can be marked as sent; this one is %(status)s.")
            % {"status": refund.get_status_display().lower()}
        )
    now = clock.now()
    _succeed(refund, now=now)
    refund.updated_at = now
    refund.save()
    _event(order, REFUND_MARKED_SENT_NOTE, actor=actor)
    return refund


def refunds_resend(*, now: dt.datetime | None = None) -> int:
    """Ask again for the refunds still unanswered ``RESEND_AFTER`` after they were asked (their
    task was lost); return how many were queued."""
    now = now or clock.now()
    stalled = list(
        Refund.objects.filter(
            status=Refund.Status.REQUESTED, updated_at__lt=now - RESEND_AFTER
        ).values_list("pk", flat=True)[:500]
    )
    queued = 0
    for refund_id in stalled:
        # Claimed with one conditional write, so that two sweeps queue it once.
        if Refund.objects.filter(
            pk=refund_id, status=Refund.Status.REQUESTED, updated_at__lt=now - RESEND_AFTER
        ).update(updated_at=now):
            tasks.send_refund(refund_id)
            queued += 1
    return queued
