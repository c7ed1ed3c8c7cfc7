"""Writes of releases: grants, downloads and the e-mail gate."""

from kinfolk.releases.services.delivery import (
    GrantRevoked,
    LimitReached,
    download_count_anonymous,
    download_take,
    fresh_links_send,
    grants_give_for_order,
    grants_revoke_for_order,
)
from kinfolk.releases.services.gates import (
    NoLongerFree,
    TooManyEmails,
    email_gate_confirm,
    email_gate_request,
    email_gates_purge,
    free_claim,
)
from kinfolk.releases.services.grants import grant_give

__all__ = [
    "GrantRevoked",
    "LimitReached",
    "NoLongerFree",
    "TooManyEmails",
    "download_count_anonymous",
    "download_take",
    "email_gate_confirm",
    "email_gate_request",
    "email_gates_purge",
    "free_claim",
    "fresh_links_send",
    "grant_give",
    "grants_give_for_order",
    "grants_revoke_for_order",
]
