"""Drops at checkout and in an order's life: the fan's hold goes with the order, paying sells the
copy, cancelling or refunding frees it for the waitlist, and a payment that found no copy left is
refunded on its own.

The order handlers here run inside the orders app's lifecycle transactions (registered in
``DropsConfig.ready()`` through ``kinfolk.orders.extensions``); they send nothing themselves:
e-mails and refunds are queued after commit.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kinfolk.accounts.models import normalize_email
from kinfolk.catalog.models import Variant
from kinfolk.core import clock
from kinfolk.core.errors import Conflict, InvalidInput, NotFound
from kinfolk.drops import tasks
from kinfolk.drops.models import Copy, DropMessage, Edition, Hold
from kinfolk.drops.services.holds import (
    NoCopyLeft,
    copies_free_for_order,
    copy_sell,
    hold_release,
)
from kinfolk.drops.services.waitlist import waitlist_offer_freed
from kinfolk.orders import extensions
from kinfolk.orders.models import Order, OrderLine
from kinfolk.orders.notes import system_note
from kinfolk.orders.selectors import order_lines_kept
from kinfolk.orders.services.lifecycle import order_lock, order_refund
from kinfolk.shops.models import Shop

logger = logging.getLogger(__name__)

# Stored in English in the order's history and shown in the reader's language, like the orders
# app's own notes.
SOLD_OUT_REFUND_NOTE = system_note(
    gettext_noop("Sold out before the payment arrived: refunded automatically")
)


class HoldNeeded(Conflict):
    """A cart line of an edition has no live hold of the fan's behind it; ``edition`` says which."""

    default_code = "hold_needed"

    def __init__(self, message: str, *, edition: Edition, code: str | None = None):
        super().__init__(message, code=code)
        self.edition = edition


@dataclass(frozen=True)
class CartItem:
    """What checkout needs of a cart line: its variant and quantity."""

    variant_id: int
    quantity: int


def checkout_holds_check(
    *,
    items: Iterable[CartItem],
    editions: dict[int, Edition],
    holds: dict[int, Hold],
    email: str | None = None,
    now: dt.datetime | None = None,
) -> list[Hold]:
    """Return the holds the cart's edition lines are bought through; reads nothing itself.

    ``editions`` maps the cart's variant ids to their editions, ``holds`` the fan's holds (from
    their session or account) by edition id. Raises HoldNeeded when a line of an edition has no
    live hold, InvalidInput when it asks for more than one copy, or when ``email`` is not the
    address the copy was reserved with (the hold is that fan's, and so is the per-fan limit).
    """
    now = now or clock.now()
    found = []
    for item in items:
        edition = editions.get(item.variant_id)
        if edition is None:
            continue
        name = edition.product.name
        if item.quantity != 1:
            raise InvalidInput(
                _("Each reservation is for one copy of %(product)s: set its quantity to 1.")
                % {"product": name},
                code="one_copy",
            )
        hold = holds.get(edition.pk)
        if hold is None:
            raise HoldNeeded(
                _("Reserve a copy of %(product)s on its drop page first.") % {"product": name},
                edition=edition,
            )
        if not hold.is_live(now):
            raise HoldNeeded(
                _("Your hold on %(product)s has run out. Reserve again if copies are left.")
                % {"product": name},
                edition=edition,
                code="hold_lapsed",
            )
        if email is not None and normalize_email(email) != hold.email:
            raise InvalidInput(
                _("Use the address you reserved your copy with: %(email)s.")
                % {"email": hold.email},
                field="email",
                code="hold_email",
            )
        found.append(hold)
    return found


@transaction.atomic
def hold_attach_order(*, shop: Shop, token: str, order: Order) -> Hold:
    """Note that the fan pays for the hold ``token`` with ``order``; return the hold.

    Paying the order then sells the hold's copy (see ``copies_sell_for_order``). Only an order of
    the same shop, placed with the hold's e-mail address and holding the edition, may take it;
    attaching again (a retried submit, a new order after a declined card) moves it to that order.
    """
    hold = (
        Hold.objects.select_for_update(of=("self",))  # not the edition's row (see holds.py)
        .select_related("edition")
        .filter(shop=shop, token=token)
        .first()
    )
    if hold is None or order.shop_id != shop.pk or hold.email != normalize_email(order.email):
        raise NotFound(_("This hold does not exist."))
    if not order.lines.filter(variant_id=hold.edition.variant_id).exists():
        raise InvalidInput(_("This order does not hold a copy of the edition."))
    if hold.status == Hold.Status.PAID and hold.order_id != order.pk:
        raise Conflict(_("This hold was already paid for with another order."), code="paid")
    if hold.order_id != order.pk:
        hold.order = order
        hold.save(update_fields=["order"])
    return hold


@transaction.atomic
def hold_give_back(*, shop: Shop, token: str, email: str) -> Hold:
    """Release the fan's hold (see ``hold_release``) and, after commit, offer its copy to the
    waitlist; return the hold."""
    hold = hold_release(shop=shop, token=token, email=email)
    transaction.on_commit(partial(tasks.offer_freed_copies, hold.edition_id))
    return hold


def _edition_lines(order: Order) -> list[tuple[Edition, int]]:
    """Return the order's lines of editions as (edition, quantity): from the lines the orders
    app loaded with their editions (``copies_sell_for_order``), else read here."""
    kept = order_lines_kept(order)
    if kept is not None and all(
        Variant.edition.is_cached(line.variant) for line in kept if line.variant_id
    ):
        lines = [line for line in kept if getattr(line.variant, "edition", None) is not None]
    else:
        lines = OrderLine.objects.filter(
            order=order, variant__edition__isnull=False
        ).select_related("variant__edition")
    return [(line.variant.edition, line.quantity) for line in lines]


def _holds_paying(order: Order, edition: Edition, quantity: int) -> list[Hold]:
    """Return up to ``quantity`` holds to sell the edition's copies through: those attached to
    the order at checkout, else the fan's newest unpaid hold by the order's e-mail address."""
    attached = list(
        Hold.objects.filter(order=order, edition=edition).order_by("created_at", "pk")[:quantity]
    )
    if attached:
        return attached
    newest = (
        Hold.objects.filter(edition=edition, email=normalize_email(order.email))
        .exclude(status=Hold.Status.PAID)
        .order_by("-created_at", "-pk")
        .first()
    )
    return [newest] if newest else []


@extensions.reads_order_lines("variant__edition")
def copies_sell_for_order(*, shop: Shop, order: Order) -> list[Copy]:
    """Sell the paid ``order`` a numbered copy for each of its edition lines; return them.

    Runs inside ``order_mark_paid``'s transaction. When a line gets no copy (every copy went to
    other fans before this payment arrived) the order is refunded after commit, in full, and the
    fan is told (``order_refund_unfilled``). Raises only what a retry may cure (the rush kept
    every free copy locked: "busy"), which undoes the payment's recording for the processor to
    deliver again.
    """
    sold: list[Copy] = []
    short = False
    for edition, quantity in _edition_lines(order):
        holds = _holds_paying(order, edition, quantity)
        short = short or len(holds) < quantity
        for hold in holds:
            try:
                sold.append(copy_sell(shop=shop, token=hold.token, order=order))
            except NoCopyLeft:
                short = True
            except Conflict as exc:
                if exc.code != "paid":
                    raise
                short = True
    if short:
        logger.info("order %s paid for a copy no longer free: refunding", order.number)
        transaction.on_commit(partial(tasks.refund_unfilled_order, order.pk))
    return sold


def copies_free_for_ended_order(*, shop: Shop, order: Order) -> int:
    """Free the copies of a cancelled or refunded ``order`` and offer them to the waitlist;
    return how many were freed. Runs inside the order's cancel or refund transaction."""
    editions = list(Edition.objects.filter(copies__order=order).distinct())
    freed = copies_free_for_order(shop=shop, order=order)
    for edition in editions:
        waitlist_offer_and_tell(shop=shop, edition=edition)
    return freed


@transaction.atomic
def waitlist_offer_and_tell(*, shop: Shop, edition: Edition, now: dt.datetime | None = None) -> int:
    """Offer the copies free now to the fans waiting longest and e-mail each after commit;
    return how many were offered. Nothing is offered while the drop is not open."""
    now = now or clock.now()
    if now < edition.opens_at or (edition.closes_at is not None and now >= edition.closes_at):
        return 0
    offered = waitlist_offer_freed(shop=shop, edition=edition, now=now)
    for entry in offered:
        transaction.on_commit(
            partial(tasks.send_drop_email, DropMessage.Kind.OFFER, entry.offer.token)
        )
    return len(offered)


def _unfilled(order: Order) -> bool:
    """Return whether an edition line of the order has fewer copies sold than it asked for."""
    sold: dict[int, int] = {}
    for edition_id in Copy.objects.filter(order=order).values_list("edition_id", flat=True):
        sold[edition_id] = sold.get(edition_id, 0) + 1
    return any(sold.get(edition.pk, 0) < quantity for edition, quantity in _edition_lines(order))


@transaction.atomic
def order_refund_unfilled(*, shop: Shop, order_id: int) -> bool:
    """Refund the paid order ``order_id`` that got no copy, in full, and e-mail the fan after
    commit; return False when there is nothing to do (refunded already, or its copies were sold).

    The money goes back through the payment's provider after commit (``order_refund`` queues
    it), under the refund's idempotency key: once, however often this or its task runs.
    """
    order = order_lock(shop=shop, order_id=order_id)
    if not order.can_transition_to(Order.Status.REFUNDED) or not _unfilled(order):
        return False
    editions = [edition for edition, _quantity in _edition_lines(order)]
    # The drop's own "sold out, refunded in full" e-mail tells the fan: not the refund's too.
    order_refund(shop=shop, order=order, reason=SOLD_OUT_REFUND_NOTE, tell_fan=False)
    if editions:
        transaction.on_commit(
            partial(tasks.send_drop_email, DropMessage.Kind.SOLD_OUT_REFUND, str(order.pk))
        )
    return True
