"""Background delivery of signed callbacks, retried until the merchant answers 2xx."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from kinfolk.testpay import services


class CallbackDeliveryFailed(Exception):
    """The merchant did not answer 2xx; raising makes Huey retry the delivery."""


# Retries wait 2, 4, 8 … 256 s: about eight and a half minutes before giving up.
@db_task(retries=8, retry_delay=2, retry_backoff=2)
def deliver_callback(charge_id: str, event_id: str) -> None:
    """Deliver one charge's callback; raise on a network error or a non-2xx answer."""
    attempt = services.callback_deliver(charge_id=charge_id, event_id=event_id)
    if attempt is not None and not attempt.succeeded:
        raise CallbackDeliveryFailed(attempt.error or f"HTTP {attempt.status_code}")
