"""Background work of the fan gallery: telling a fan their photo or video is shown."""

from __future__ import annotations

from huey.contrib.djhuey import db_task


@db_task(retries=3, retry_delay=60)
def upload_approved_notify(upload_id: int) -> bool:
    """E-mail the fan that their upload is in the shop's gallery; return whether it was sent."""
    from kinfolk.gallery.emails import approved_email_send

    return approved_email_send(upload_id=upload_id)
