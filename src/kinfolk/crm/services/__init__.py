"""Writes of the relationship ledger: customers, the timeline, stages and RFM scores."""

from kinfolk.crm.services.customers import (
    customer_get_or_create,
    customers_link_account,
    interaction_record,
)
from kinfolk.crm.services.rfm import rfm_recompute
from kinfolk.crm.services.stages import stage_rules_save, stage_update_for, stages_recompute

__all__ = [
    "customer_get_or_create",
    "customers_link_account",
    "interaction_record",
    "rfm_recompute",
    "stage_rules_save",
    "stage_update_for",
    "stages_recompute",
]
