"""A shop's record of each person (Customer), the append-only timeline (Interaction), and what the
shop derives from it: the relationship stage (with every change in StageChange, under the shop's
StageRules) and the RFM scores (CustomerScore).

The current stage lives on Customer itself rather than in a one-to-one row: every customer has
exactly one stage at all times (awareness from the first contact), the customers list filters by
it at a million rows through the (shop, stage) index without a join, and the incremental update
after each interaction writes one row it has already locked. RFM scores live in CustomerScore: only
customers with a purchase have them, the batch rewrites them wholesale, and the predicted values
of the CLV model join them there later without widening Customer.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from kinfolk.shops.models import Shop


class Stage(models.TextChoices):
    """The four stages of a fan's relationship with a shop, lowest first."""

    AWARENESS = "awareness", _("Awareness")
    IDENTIFICATION = "identification", _("Identification")
    RELATIONSHIP = "relationship", _("Relationship")
    COMMUNITY = "community", _("Community")


STAGE_ORDER: dict[str, int] = {stage: rank for rank, stage in enumerate(Stage.values)}


class Customer(models.Model):
    """A person as one shop knows them; linked to an account when there is one.

    Guests and imported customers have no account; when they sign up with the same address, their
    customer records are linked to the new account.
    """

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="customers")
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="customer_records",
    )
    email = models.EmailField(_("e-mail address"), blank=True)
    name = models.CharField(_("name"), max_length=150, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True)
    created_at = models.DateTimeField()
    stage = models.CharField(
        _("stage"), max_length=20, choices=Stage.choices, default=Stage.AWARENESS
    )
    stage_changed_at = models.DateTimeField(_("stage since"), null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                "shop",
                Lower("email"),
                condition=~Q(email=""),
                name="customer_unique_shop_email",
            ),
            models.UniqueConstraint(
                fields=["shop", "account"],
                condition=Q(account__isnull=False),
                name="customer_unique_shop_account",
            ),
        ]
        indexes = [
            models.Index(fields=["shop", "created_at"]),
            models.Index(fields=["shop", "stage"], name="customer_shop_stage"),
        ]

    def __str__(self) -> str:
        return self.name or self.email or f"customer {self.pk}"


class Interaction(models.Model):
    """One fan-facing event on a customer's timeline. Rows are only ever added."""

    class Kind(models.TextChoices):
        ACCOUNT_CREATED = "account_created", _("Account created")
        ORDER_PLACED = "order_placed", _("Order placed")
        ORDER_PAID = "order_paid", _("Order paid")
        ORDER_SHIPPED = "order_shipped", _("Order shipped")
        ORDER_DELIVERED = "order_delivered", _("Order delivered")
        ORDER_CANCELLED = "order_cancelled", _("Order cancelled")
        ORDER_REFUNDED = "order_refunded", _("Order refunded")
        MESSAGE_SENT = "message_sent", _("Message sent")
        NOTE = "note", _("Staff note")
        STAGE_CHANGED = "stage_changed", _("Stage changed")
        DOWNLOAD = "download", _("Downloaded")
        FOLLOW = "follow", _("Followed")
        REFERRAL = "referral", _("Referred someone")
        UPLOAD = "upload", _("Uploaded")
        RSVP = "rsvp", _("Signed up for an event")
        GROUP_JOINED = "group_joined", _("Joined a group")
        POST = "post", _("Posted")
        REPLY = "reply", _("Replied")
        DATES_GIVEN = "dates_given", _("Gave important dates")

    class Source(models.TextChoices):
        STOREFRONT = "storefront", _("Storefront")
        DASHBOARD = "dashboard", _("Dashboard")
        PAYMENT = "payment", _("Payment provider")
        IMPORT = "import", _("Import")
        SYSTEM = "system", _("System")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="interactions")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="interactions")
    kind = models.CharField(max_length=40, choices=Kind.choices)
    occurred_at = models.DateTimeField()
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.SYSTEM)
    subject_type = models.CharField(max_length=40, blank=True)
    subject_id = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["shop", "customer", "occurred_at"]),
            models.Index(fields=["shop", "kind", "occurred_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.customer} · {self.occurred_at:%Y-%m-%d}"


class StageRules(models.Model):
    """A shop's adjustments to the stage rules; a shop without a row uses the defaults.

    The defaults and why they are what they are: ``kinfolk.crm.stage_rules``.
    """

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="stage_rules")
    purchase_window_days = models.PositiveIntegerField(
        _("purchase window (days)"),
        default=365,
        help_text=_("Paid orders older than this no longer count towards a stage."),
    )
    repeat_purchase_min_orders = models.PositiveIntegerField(
        _("paid orders for a relationship"), default=2
    )
    return_window_days = models.PositiveIntegerField(_("return window (days)"), default=90)
    return_min_days = models.PositiveIntegerField(
        _("active days for identification"),
        default=3,
        help_text=_("Distinct days with an action of the fan within the return window."),
    )
    engagement_window_days = models.PositiveIntegerField(
        _("uploads and replies window (days)"), default=365
    )
    community_window_days = models.PositiveIntegerField(_("community window (days)"), default=180)
    community_min_actions = models.PositiveIntegerField(
        _("community actions for the community stage"), default=1
    )
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("stage rules")
        verbose_name_plural = _("stage rules")
        constraints = [
            models.CheckConstraint(
                condition=Q(purchase_window_days__gte=1)
                & Q(return_window_days__gte=1)
                & Q(engagement_window_days__gte=1)
                & Q(community_window_days__gte=1),
                name="stage_rules_windows_positive",
            ),
            models.CheckConstraint(
                condition=Q(repeat_purchase_min_orders__gte=2)
                & Q(return_min_days__gte=1)
                & Q(community_min_actions__gte=1),
                name="stage_rules_thresholds_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"stage rules · {self.shop_id}"


class StageChange(models.Model):
    """One move of a customer from one stage to another, with the rule and events behind it."""

    class Trigger(models.TextChoices):
        INTERACTION = "interaction", _("A new interaction")
        RECOMPUTE = "recompute", _("Recomputation")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="stage_changes")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.CharField(max_length=20, choices=Stage.choices)
    to_stage = models.CharField(max_length=20, choices=Stage.choices)
    changed_at = models.DateTimeField()
    # The rule that holds for the new stage (kinfolk.crm.stage_rules.Rule).
    rule = models.CharField(max_length=30)
    # The first and last of the interactions that satisfied the rule.
    interaction_ids = models.JSONField(default=list, blank=True)
    # What the rule counted, its window and its threshold at the time.
    evidence = models.JSONField(default=dict, blank=True)
    trigger = models.CharField(max_length=20, choices=Trigger.choices)

    class Meta:
        ordering = ["changed_at", "id"]
        indexes = [
            models.Index(fields=["shop", "customer", "changed_at"]),
            models.Index(fields=["shop", "changed_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(from_stage=models.F("to_stage")), name="stage_change_changes"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.from_stage} → {self.to_stage} ({self.rule})"


class Segment(models.TextChoices):
    """Named RFM segments (the R × FM grid in ``kinfolk.crm.rfm_scoring``)."""

    CHAMPIONS = "champions", _("Champions")
    LOYAL = "loyal", _("Loyal")
    POTENTIAL_LOYALIST = "potential_loyalist", _("Potential loyalist")
    NEW = "new", _("New")
    PROMISING = "promising", _("Promising")
    NEED_ATTENTION = "need_attention", _("Need attention")
    ABOUT_TO_SLEEP = "about_to_sleep", _("About to sleep")
    AT_RISK = "at_risk", _("At risk")
    CANT_LOSE = "cant_lose", _("Can't lose")
    HIBERNATING = "hibernating", _("Hibernating")
    LOST = "lost", _("Lost")


class CustomerScore(models.Model):
    """A purchasing customer's RFM scores within the shop; customers without a purchase have none."""

    customer = models.OneToOneField(
        Customer, on_delete=models.CASCADE, primary_key=True, related_name="score"
    )
    # Repeated from the customer so that the shop's lists filter and sort on one index.
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="customer_scores")
    last_purchase_at = models.DateTimeField(_("last purchase"))
    frequency = models.PositiveIntegerField(_("paid orders"))
    monetary = models.BigIntegerField(_("total paid"))  # minor units of the shop's currency
    recency_score = models.PositiveSmallIntegerField(_("R"))
    frequency_score = models.PositiveSmallIntegerField(_("F"))
    monetary_score = models.PositiveSmallIntegerField(_("M"))
    segment = models.CharField(_("segment"), max_length=20, choices=Segment.choices)
    scored_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["shop", "segment"], name="score_shop_segment"),
            models.Index(
                fields=["shop", "recency_score", "frequency_score", "monetary_score"],
                name="score_shop_rfm",
            ),
            models.Index(fields=["shop", "monetary"], name="score_shop_monetary"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(recency_score__range=(1, 5))
                & Q(frequency_score__range=(1, 5))
                & Q(monetary_score__range=(1, 5)),
                name="score_rfm_quintiles",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.rfm} {self.segment}"

    @property
    def rfm(self) -> str:
        """Return the three scores as the usual code, e.g. ``"545"``."""
        return f"{self.recency_score}{self.frequency_score}{self.monetary_score}"
