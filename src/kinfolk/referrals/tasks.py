"""Background work of the referrals app (run by the Huey consumer)."""

from __future__ import annotations

from huey.contrib.djhuey import db_task


@db_task(retries=5, retry_delay=30)
def send_reward_email(grant_id: int) -> bool:
    """Tell a fan about the reward they earned (once per grant)."""
    from kinfolk.referrals.emails import reward_email_send

    return reward_email_send(grant_id=grant_id)
