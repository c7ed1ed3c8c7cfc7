"""Background work of the drops (run by the Huey consumer): e-mails, refunds of payments that came
too late, and offers of lapsed holds' copies to the waitlist."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task


@db_task(retries=5, retry_delay=30)
def send_drop_email(kind: str, key: str) -> bool:
    """Send one drops e-mail ("offer", "sold_out_refund") at most once."""
    from kinfolk.drops.emails import drop_email_send

    return drop_email_send(kind=kind, key=key)


@db_task(retries=3, retry_delay=10)
def record_on_timeline(
    *,
    shop_id: int,
    edition_id: int,
    email: str,
    account_id: int | None,
    kind: str,
    occurred_at: str,
    data: dict,
) -> bool:
    """Put a reservation or a waitlist place on the fan's timeline (see ``drops.timeline``)."""
    import datetime as dt

    from kinfolk.accounts.models import User
    from kinfolk.drops.timeline import timeline_note
    from kinfolk.shops.models import Shop

    shop = Shop.objects.filter(pk=shop_id).first()
    if shop is None:
        return False
    account = User.objects.filter(pk=account_id).first() if account_id else None
    timeline_note(
        shop=shop,
        edition_id=edition_id,
        email=email,
        account=account,
        kind=kind,
        occurred_at=dt.datetime.fromisoformat(occurred_at),
        data=data,
    )
    return True


@db_task(retries=5, retry_delay=30)
def refund_unfilled_order(order_id: int) -> bool:
    """Refund a paid order that found every copy gone, and tell the fan (once)."""
    from kinfolk.drops.services.checkout import order_refund_unfilled
    from kinfolk.orders.models import Order

    order = Order.objects.select_related("shop").filter(pk=order_id).first()
    if order is None:
        return False
    return order_refund_unfilled(shop=order.shop, order_id=order.pk)


@db_task(retries=5, retry_delay=60)
def return_payment(payment_id: int) -> bool:
    """Give a refunded payment's money back through its provider: ask again for each of its
    refunds still waiting for an answer; return whether it had any.

    ``order_refund`` queues its refund's own task (``orders.tasks.send_refund``); this one
    stays for tasks queued before, and is safe to run with it: every ask carries the refund's
    idempotency key, so the money goes back once.
    """
    from kinfolk.orders.models import Refund
    from kinfolk.orders.services.refunds import refund_send

    waiting = list(
        Refund.objects.filter(payment_id=payment_id, status=Refund.Status.REQUESTED).values_list(
            "pk", flat=True
        )
    )
    for refund_id in waiting:
        refund_send(refund_id=refund_id)
    return bool(waiting)


@db_task(retries=3, retry_delay=10)
def offer_freed_copies(edition_id: int) -> int:
    """Offer the edition's free copies to its waitlist (after a fan gave one back)."""
    from kinfolk.drops.models import Edition
    from kinfolk.drops.services.checkout import waitlist_offer_and_tell

    edition = Edition.objects.select_related("shop").filter(pk=edition_id).first()
    if edition is None:
        return 0
    return waitlist_offer_and_tell(shop=edition.shop, edition=edition)


@db_periodic_task(crontab(minute="*"))
def offer_lapsed_copies() -> int:
    """Every minute: offer the copies of holds that lapsed to the fans on the waitlists.

    A lapsed hold's copy is free for any fan at once, without this task; the task only makes
    sure that the fans who queued for it hear about it.
    """
    from kinfolk.core import clock
    from kinfolk.drops.selectors import editions_waiting_for_copies
    from kinfolk.drops.services.checkout import waitlist_offer_and_tell

    now = clock.now()
    offered = 0
    for edition in editions_waiting_for_copies(now=now):
        offered += waitlist_offer_and_tell(shop=edition.shop, edition=edition, now=now)
    return offered
