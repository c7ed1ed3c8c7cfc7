"""Reads of the relationship ledger; every one takes the shop first and sees only its rows.

One module per area (stages, lookups, ...); callers may import from the module or from here.
"""

from kinfolk.crm.selectors.lookups import (
    customer_get_for_shop,
    import_run_get_for_shop,
    segment_get_for_shop,
)
from kinfolk.crm.selectors.stages import (
    customer_stage_history,
    customers_by_stage,
    rfm_segment_counts,
    stage_rules_for,
)

__all__ = [
    "customer_get_for_shop",
    "customer_stage_history",
    "customers_by_stage",
    "import_run_get_for_shop",
    "rfm_segment_counts",
    "segment_get_for_shop",
    "stage_rules_for",
]
