"""Background work of the orders app (run by the Huey consumer)."""

from __future__ import annotations

from huey.contrib.djhuey import db_task


@db_task(retries=5, retry_delay=30)
def send_order_email(order_id: int, kind: str, key: str = "") -> bool:
    """Send one order e-mail ("placed", "confirmed", "shipped") at most once."""
    from kinfolk.orders.emails import order_email_send

    return order_email_send(order_id=order_id, kind=kind, key=key)
