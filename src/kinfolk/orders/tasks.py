"""Background work of the orders app (run by the Huey consumer)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task


@db_task(retries=5, retry_delay=30)
def send_order_email(order_id: int, kind: str, key: str = "") -> bool:
    """Send one order e-mail ("placed", "confirmed", "shipped") at most once."""
    from kinfolk.orders.emails import order_email_send

    return order_email_send(order_id=order_id, kind=kind, key=key)


@db_periodic_task(crontab(minute="*/10"))
def expire_unpaid_orders() -> int:
    """Every ten minutes: cancel abandoned card orders and give their stock back."""
    from kinfolk.orders.services.expiry import orders_expire_unpaid

    return orders_expire_unpaid()


class RefundNotAnswered(Exception):
    """The payment provider could not be asked; raising makes Huey retry the refund."""


# Retries wait 30 s, 1, 2, 4 … 16 min: about half an hour before staff are told it failed.
@db_task(retries=6, retry_delay=30, retry_backoff=2, context=True)
def send_refund(refund_id: int, task=None) -> str:
    """Ask the provider to give a requested refund's money back; return the refund's status.

    Safe to run again (a retry, "Try again", a resend): the refund's idempotency key goes with
    every ask. On the last try an unreachable provider is recorded as a failed refund.
    """
    from kinfolk.orders.services.refunds import refund_fail_unreachable, refund_send

    try:
        refund = refund_send(refund_id=refund_id)
    except Exception as exc:
        if task is not None and task.retries == 0:
            refund = refund_fail_unreachable(refund_id=refund_id, error=repr(exc))
            return refund.status if refund is not None else "missing"
        raise RefundNotAnswered(repr(exc)) from exc
    return refund.status if refund is not None else "missing"


@db_periodic_task(crontab(minute="*/15"))
def resend_stalled_refunds() -> int:
    """Every fifteen minutes: ask again for refunds whose task was lost."""
    from kinfolk.orders.services.refunds import refunds_resend

    return refunds_resend()
