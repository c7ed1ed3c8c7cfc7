"""Background work of the storefront (run by the Huey consumer)."""

from __future__ import annotations

from huey.contrib.djhuey import db_task


@db_task(retries=5, retry_delay=60)
def send_confirmation_email(*, user_id: int, url: str, language: str) -> bool:
    """E-mail a new account its confirmation link; retried while the mail server fails."""
    from kinfolk.storefront.services import confirmation_email_send

    return confirmation_email_send(user_id=user_id, url=url, language=language)
