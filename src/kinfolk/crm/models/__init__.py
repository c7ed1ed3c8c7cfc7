"""A shop's record of each person (Customer), the append-only timeline (Interaction), and what the
shop derives from it: the relationship stage (with every change in StageChange, under the shop's
StageRules), the RFM scores and predicted value (CustomerScore, ValueModelFit), saved segments, and
what is kept about a person besides: tags, important dates, consent, merges, erasures, imports.

The current stage lives on Customer itself rather than in a one-to-one row: every customer has
exactly one stage at all times (awareness from the first contact), the customers list filters by
it at a million rows through the (shop, stage) index without a join, and the incremental update
after each interaction writes one row it has already locked. RFM scores and predicted value live in
CustomerScore: only customers with a purchase have them, and the batches rewrite them wholesale.
"""

from kinfolk.crm.models.audience import ConsentRequest, Follow
from kinfolk.crm.models.customers import (
    STAGE_ORDER,
    ConsentRecord,
    Customer,
    CustomerDate,
    CustomerMerge,
    ErasedAddress,
    Erasure,
    Stage,
    Tag,
)
from kinfolk.crm.models.imports import ImportRun
from kinfolk.crm.models.scores import CustomerScore, Segment, ValueModelFit
from kinfolk.crm.models.segments import SavedSegment
from kinfolk.crm.models.share import ShareSnapshot
from kinfolk.crm.models.stages import StageChange, StageRules
from kinfolk.crm.models.timeline import Interaction

__all__ = [
    "STAGE_ORDER",
    "ConsentRecord",
    "ConsentRequest",
    "Customer",
    "CustomerDate",
    "CustomerMerge",
    "CustomerScore",
    "ErasedAddress",
    "Erasure",
    "Follow",
    "ImportRun",
    "Interaction",
    "SavedSegment",
    "Segment",
    "ShareSnapshot",
    "Stage",
    "StageChange",
    "StageRules",
    "Tag",
    "ValueModelFit",
]
