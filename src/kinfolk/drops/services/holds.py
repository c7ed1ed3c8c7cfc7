"""Holding, selling and freeing copies: every change of a copy is one conditional UPDATE.

A copy is claimed with ``UPDATE ... WHERE id = %s AND (free OR held past its expiry)``: two
buyers can read the same candidate, only one UPDATE matches, the other looks again. On
PostgreSQL the candidate is read ``FOR UPDATE SKIP LOCKED``, so racing buyers take different
copies instead of queueing on the lowest number; SQLite runs one writer at a time and needs no
row locks. The CHECK constraints on Copy (see the models) back all of it.

Rows are locked holds first, copies second. The one write that goes the other way, marking the
lapsed hold of a copy just claimed, never waits: when a late payment has that hold locked, the
hold stays "active" past its expiry, which already means lapsed everywhere (``Hold.is_live``).
Without that, a new fan's claim (copy, then hold) and the late payment of the copy's old hold
(hold, then copy) would deadlock.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from kinfolk.accounts.models import normalize_email
from kinfolk.core import clock
from kinfolk.core.errors import Conflict, InvalidInput, NotFound
from kinfolk.crm.models import Interaction
from kinfolk.drops.models import Copy, Edition, Hold, WaitlistEntry, new_verification_code
from kinfolk.drops.selectors import copies_bought, may_buy_early
from kinfolk.drops.timeline import timeline_note_after_commit
from kinfolk.orders.models import Order
from kinfolk.shops.models import Shop

# A claim that lost a race looks again; after this many losses in a row the fan is asked to
# try again rather than kept waiting.
_CLAIM_ATTEMPTS = 8


class SoldOut(Conflict):
    default_code = "sold_out"


class NoCopyLeft(Conflict):
    """A payment arrived for a hold whose copy went to someone else, and none is free."""

    default_code = "no_copy_left"


@dataclass(frozen=True)
class HoldOutcome:
    """The fan's hold, and whether this call made it (False: the fan already held one)."""

    hold: Hold
    created: bool


def claimable(now: dt.datetime) -> Q:
    """Return the condition on a copy that is free at ``now``: free, or held past its expiry."""
    return Q(state=Copy.State.FREE) | Q(state=Copy.State.HELD, held_until__lte=now)


def _check_window(edition: Edition, email: str, now: dt.datetime) -> None:
    if edition.closes_at is not None and now >= edition.closes_at:
        raise Conflict(_("This drop has closed."), code="closed")
    if now >= edition.opens_at:
        return
    early = edition.early_access != Edition.EarlyAccess.NONE
    if early and edition.early_access_opens_at <= now:
        if may_buy_early(edition=edition, email=email):
            return
        raise Conflict(
            _("Early access is for the shop's chosen fans. The drop opens to everyone soon."),
            code="early_access_only",
        )
    raise Conflict(_("This drop has not opened yet."), code="not_open")


def _claim(
    edition: Edition,
    now: dt.datetime,
    **changes,
) -> Copy | None:
    """Move one copy that is free at ``now`` to ``changes``; return it, or None when none is free.

    The copy's previous hold, if it had lapsed, is marked so.
    """
    for _attempt in range(_CLAIM_ATTEMPTS):
        candidate = (
            Copy.objects.select_for_update(skip_locked=True)
            .filter(edition=edition)
            .filter(claimable(now))
            .order_by("number")
            .values_list("pk", "hold_id")
            .first()
        )
        if candidate is None:
            return None
        pk, lapsed_hold = candidate
        if Copy.objects.filter(pk=pk).filter(claimable(now)).update(**changes):
            if lapsed_hold is not None:
                _mark_lapsed_if_free(lapsed_hold, now)
            return Copy.objects.get(pk=pk)
    raise Conflict(_("Many fans are buying right now. Please try again."), code="busy")


def _mark_lapsed_if_free(hold_id: int, now: dt.datetime) -> None:
    """Mark the hold lapsed unless another transaction has it locked (see the module's note)."""
    free = Hold.objects.select_for_update(skip_locked=True).filter(
        pk=hold_id, status=Hold.Status.ACTIVE
    )
    Hold.objects.filter(pk__in=list(free.values_list("pk", flat=True))).update(
        status=Hold.Status.LAPSED, ended_at=now
    )


def hold_take(
    *,
    shop: Shop,
    edition: Edition,
    email: str,
    account=None,
    source: str = Hold.Source.RESERVE,
    now: dt.datetime | None = None,
) -> HoldOutcome:
    """Hold one copy of ``edition`` for the fan for the edition's hold time.

    A fan holds at most one copy of an edition at a time: a second call (another tab) returns
    the first hold with ``created=False``. Raises Conflict when the drop is not open to the fan,
    when the fan reached the edition's limit, or SoldOut when no copy is free.
    """
    if edition.shop_id != shop.pk:
        raise NotFound(_("No such drop."))
    now = now or clock.now()
    # Once a drop sells out, most fans who press "reserve" find nothing: they are answered
    # from two reads, without the write transaction (on SQLite the database's one write lock)
    # that every fan still racing for a copy needs. A copy freed a moment later goes to the
    # waitlist, which this answer offers.
    if not _any_claimable(edition, now) and not _holds_one(edition, email):
        raise SoldOut(_("Sold out: every copy is sold or held."))
    return _hold_take(
        shop=shop, edition=edition, email=email, account=account, source=source, now=now
    )


def _any_claimable(edition: Edition, now: dt.datetime) -> bool:
    return Copy.objects.filter(edition=edition).filter(claimable(now)).exists()


def _holds_one(edition: Edition, email: str) -> bool:
    """Return whether the fan holds a copy (live or lapsed: a lapsed one may be theirs again)."""
    return Hold.objects.filter(
        edition=edition, email=normalize_email(email), status=Hold.Status.ACTIVE
    ).exists()


@transaction.atomic
def _hold_take(
    *,
    shop: Shop,
    edition: Edition,
    email: str,
    account,
    source: str,
    now: dt.datetime,
) -> HoldOutcome:
    if edition.shop_id != shop.pk:
        raise NotFound(_("No such drop."))
    now = now or clock.now()
    email = normalize_email(email)
    if not email:
        raise InvalidInput(_("An e-mail address is required."), field="email")
    account = account if account is not None and account.is_authenticated else None
    _check_window(edition, email, now)
    # The fan's own lapsed hold makes way (the one-open-hold rule would refuse the new one),
    # and its copy, free in effect since the expiry, becomes free in the row too.
    lapsed = list(
        Hold.objects.select_for_update()
        .filter(edition=edition, email=email, status=Hold.Status.ACTIVE, expires_at__lte=now)
        .values_list("pk", flat=True)
    )
    if lapsed:
        Copy.objects.filter(hold_id__in=lapsed, state=Copy.State.HELD).update(
            state=Copy.State.FREE, hold=None, held_until=None
        )
        Hold.objects.filter(pk__in=lapsed, status=Hold.Status.ACTIVE).update(
            status=Hold.Status.LAPSED, ended_at=now
        )
    current = Hold.objects.filter(edition=edition, email=email, status=Hold.Status.ACTIVE).first()
    if current is not None:
        return HoldOutcome(hold=current, created=False)
    if copies_bought(edition=edition, email=email, account=account) >= edition.per_fan_limit:
        raise Conflict(
            _("You have bought the most copies of this edition one fan may buy."),
            code="limit_reached",
        )
    try:
        with transaction.atomic():
            hold = Hold.objects.create(
                shop=shop,
                edition=edition,
                token=secrets.token_hex(16),
                email=email,
                account=account,
                source=source,
                created_at=now,
                expires_at=now + edition.hold_duration,
            )
    except IntegrityError:
        # The same fan's other tab took a hold in the meantime (PostgreSQL): that one stands.
        current = Hold.objects.filter(edition=edition, email=email, status=Hold.Status.ACTIVE)
        return HoldOutcome(hold=current.get(), created=False)
    copy = _claim(edition, now, state=Copy.State.HELD, hold=hold, held_until=hold.expires_at)
    if copy is None:
        raise SoldOut(_("Sold out: every copy is sold or held."))
    _on_timeline(shop, edition, email=email, account=account, now=now, hold=hold)
    return HoldOutcome(hold=hold, created=True)


def _on_timeline(shop: Shop, edition: Edition, *, email: str, account, now, hold: Hold) -> None:
    """Put the reservation on the fan's timeline in the shop once it commits (by the worker)."""
    timeline_note_after_commit(
        shop=shop,
        edition_id=edition.pk,
        email=email,
        account=account,
        kind=Interaction.Kind.DROP_RESERVED,
        occurred_at=now,
        data={"source": hold.source, "expires_at": hold.expires_at.isoformat()},
    )


def _locked_hold(shop: Shop, token: str) -> Hold:
    # Only the hold's row: a plain FOR UPDATE would lock the joined edition too, and every
    # sale of the edition would queue on that one row (and deadlock with the foreign-key checks
    # of new holds at their commit, on PostgreSQL).
    hold = (
        Hold.objects.select_for_update(of=("self",))
        .select_related("edition")
        .filter(shop=shop, token=token)
        .first()
    )
    if hold is None:
        raise NotFound(_("This hold does not exist."))
    return hold


@transaction.atomic
def hold_release(*, shop: Shop, token: str, email: str, now: dt.datetime | None = None) -> Hold:
    """Give the hold's copy back before paying; only the fan who holds it (by e-mail) may."""
    now = now or clock.now()
    hold = _locked_hold(shop, token)
    if hold.email != normalize_email(email):
        raise NotFound(_("This hold does not exist."))
    if hold.status != Hold.Status.ACTIVE:
        return hold
    Copy.objects.filter(hold=hold, state=Copy.State.HELD).update(
        state=Copy.State.FREE, hold=None, held_until=None
    )
    hold.status = Hold.Status.LAPSED if hold.expires_at <= now else Hold.Status.RELEASED
    hold.ended_at = now
    hold.save(update_fields=["status", "ended_at"])
    WaitlistEntry.objects.filter(offer=hold, status=WaitlistEntry.Status.OFFERED).update(
        status=WaitlistEntry.Status.PASSED
    )
    return hold


@transaction.atomic
def copy_sell(*, shop: Shop, token: str, order: Order, now: dt.datetime | None = None) -> Copy:
    """Sell the fan a copy for ``order``, paid through the hold ``token``; return the copy.

    The hold's own copy when it still holds it — also after its expiry, if nobody took it
    meanwhile; otherwise (a late payment) any free copy. Raises NoCopyLeft when none is free:
    the caller refunds the payment. A second call for the same hold returns the same copy.
    """
    now = now or clock.now()
    hold = _locked_hold(shop, token)
    if order.shop_id != shop.pk:
        raise NotFound(_("No such order."))
    sold = Copy.objects.filter(order=order, hold=hold, state=Copy.State.SOLD).first()
    if sold is not None:
        return sold
    if hold.status == Hold.Status.PAID:
        raise Conflict(_("This hold was already paid for with another order."), code="paid")
    sold_changes = {
        "state": Copy.State.SOLD,
        "order": order,
        "held_until": None,
        "sold_at": now,
    }
    own = Copy.objects.filter(hold=hold, state=Copy.State.HELD).update(**sold_changes)
    if own:
        copy = Copy.objects.get(hold=hold)
    else:
        copy = _claim(hold.edition, now, hold=hold, **sold_changes)
        if copy is None:
            raise NoCopyLeft(
                _("Every copy was sold before your payment arrived; it will be refunded.")
            )
    hold.status, hold.order, hold.ended_at = Hold.Status.PAID, order, now
    hold.save(update_fields=["status", "order", "ended_at"])
    WaitlistEntry.objects.filter(offer=hold).update(status=WaitlistEntry.Status.BOUGHT)
    return copy


@transaction.atomic
def copies_free_for_order(*, shop: Shop, order: Order) -> int:
    """Free the copies sold with ``order`` (cancelled or refunded); return how many.

    A freed copy gets a new verification code: the old certificate no longer verifies.
    """
    copies = list(Copy.objects.select_for_update().filter(shop=shop, order=order))
    for copy in copies:
        Copy.objects.filter(pk=copy.pk, order=order).update(
            state=Copy.State.FREE,
            order=None,
            hold=None,
            held_until=None,
            sold_at=None,
            verification_code=new_verification_code(),
        )
    return len(copies)
