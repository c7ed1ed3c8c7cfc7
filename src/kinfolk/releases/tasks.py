"""Background work of the releases (run by the Huey consumer): e-mails, and forgetting e-mail
addresses that never confirmed."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task


@db_task(retries=5, retry_delay=30)
def send_release_email(kind: str, key: str) -> bool:
    """Send one releases e-mail ("gate", "links")."""
    from kinfolk.releases.emails import release_email_send

    return release_email_send(kind=kind, key=key)


@db_periodic_task(crontab(minute="23"))
def purge_unconfirmed_gates() -> int:
    """Every hour: delete download requests whose address was not confirmed within a week."""
    from kinfolk.releases.services import email_gates_purge

    return email_gates_purge()
