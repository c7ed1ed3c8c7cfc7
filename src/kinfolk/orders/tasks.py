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
