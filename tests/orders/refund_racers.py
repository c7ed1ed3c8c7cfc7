"""What each racing process runs: real refunds of a real order through the test processor, and
the e-mail that tells the fan (set-up in ``tests.racing``).

Kept free of Django imports at module level: a spawned process imports this module before
Django is set up.
"""

from __future__ import annotations

from tests import racing


def order_refund_race(
    database_name: str, shop_id: int, order_id: int, amount: int, key: str, barrier, results
) -> None:
    """Refund ``amount`` of the order with the idempotency key ``key`` and ask the provider at
    once, as a repeated submit and a retried task would, every process starting together.

    Puts ``(pid, outcomes)`` on ``results``: "refund <id> <status>", "refused <code>" or
    "error: <type>: <message>".
    """
    racing.run(database_name, barrier, results, _refund, shop_id, order_id, amount, key)


def _refund(start, shop_id: int, order_id: int, amount: int, key: str) -> list[str]:
    from kinfolk.orders.models import Order
    from kinfolk.orders.services.lifecycle import order_refund
    from kinfolk.orders.services.refunds import refund_send
    from kinfolk.shops.models import Shop

    shop = Shop.objects.get(pk=shop_id)
    order = Order.objects.get(pk=order_id)

    def refund() -> str:
        order_refund(shop=shop, order=order, amount=amount, idempotency_key=key)
        made = refund_send(refund_id=order.refunds.get(idempotency_key=key).pk)
        return f"refund {made.pk} {made.status}"

    start()
    return [racing.outcome(refund)]


def refund_tell_race(database_name: str, refund_id: int, smtp_port: int, barrier, results) -> None:
    """Ask the provider for a requested refund and send the fan's "refunded" e-mail through the
    SMTP server on ``smtp_port``, as two workers running the same tasks would, every process
    starting together.

    Puts ``(pid, outcomes)`` on ``results``: "<refund status> sent" or "<refund status> not
    sent", or "error: <type>: <message>".
    """
    smtp = {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": smtp_port,
        "EMAIL_USE_TLS": False,
        "EMAIL_HOST_USER": "",
        "EMAIL_HOST_PASSWORD": "",
        "EMAIL_TIMEOUT": 10,
    }
    racing.run(database_name, barrier, results, _tell, refund_id, settings=smtp)


def _tell(start, refund_id: int) -> list[str]:
    from kinfolk.orders.emails import order_email_send
    from kinfolk.orders.services.refunds import refund_send

    def tell() -> str:
        refund = refund_send(refund_id=refund_id)
        sent = order_email_send(order_id=refund.order_id, kind="refunded", key=str(refund.pk))
        return f"{refund.status} {'sent' if sent else 'not sent'}"

    start()
    return [racing.outcome(tell)]
