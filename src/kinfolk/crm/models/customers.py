"""A shop's record of each person, and what is kept about them besides the timeline: tags,
important dates, consent, merges, erasures and the digests of erased addresses."""

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


class CustomerQuerySet(models.QuerySet):
    def with_email(self, email: str, *, blank: str = "") -> CustomerQuerySet:
        """Return the customers with this address (already normalised: trimmed, lower case).

        Written so that the database uses the unique index on (shop, LOWER(email)) of non-blank
        addresses: ``email__iexact`` compiles to a LIKE or UPPER() comparison that no index
        serves, and checkout looks a customer up on every order.
        """
        # ``blank`` is always "": a parameter, so that a read compiled once (core.prepared) can
        # pass it as one of its values.
        return self.exclude(email=blank).alias(email_lower=Lower("email")).filter(email_lower=email)


class Customer(models.Model):
    """A person as one shop knows them; linked to an account when there is one.

    Guests and imported customers have no account; when they sign up with the same address, their
    customer records are linked to the new account.
    """

    shop = models.ForeignKey(
        Shop,
        on_delete=models.CASCADE,
        related_name="customers",
        # Every index of the table starts with the shop: one on the shop alone would only
        # cost writes.
        db_index=False,
    )
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
    # The current answer to "may the shop e-mail news and offers?"; every answer given is kept in
    # ConsentRecord, this is the latest one, kept here so that segments filter on it at scale.
    email_marketing = models.BooleanField(_("agreed to marketing e-mail"), default=False)
    tags = models.ManyToManyField("Tag", blank=True, related_name="customers")
    # Set when the person's data was erased at their request: the row stays so that the shop's
    # order totals keep adding up, with nothing left that identifies anyone.
    erased_at = models.DateTimeField(_("erased"), null=True, blank=True)

    objects = CustomerQuerySet.as_manager()

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
            # The customers list sorted by name (seek pagination by name, then id).
            models.Index(fields=["shop", "name"], name="customer_shop_name"),
            # The list's per-stage counts of the customers it shows (erased ones are not),
            # read from the index alone.
            models.Index(
                fields=["shop", "stage"],
                condition=Q(erased_at__isnull=True),
                name="customer_shop_stage_kept",
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.email or f"customer {self.pk}"


class Tag(models.Model):
    """A label staff give customers ("wholesale", "met at the Busan show"); per shop."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="customer_tags")
    name = models.CharField(_("name"), max_length=50)

    class Meta:
        constraints = [
            models.UniqueConstraint("shop", Lower("name"), name="tag_unique_shop_name"),
        ]

    def __str__(self) -> str:
        return self.name


class CustomerDate(models.Model):
    """A date that matters to the fan (their birthday, a partner's, an anniversary).

    Month and day recur every year; the year is optional (many people give a birthday without it).
    """

    class Kind(models.TextChoices):
        BIRTHDAY = "birthday", _("Birthday")
        PARTNER_BIRTHDAY = "partner_birthday", _("Partner's birthday")
        ANNIVERSARY = "anniversary", _("Anniversary")
        OTHER = "other", _("Other")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="customer_dates")
    customer = models.ForeignKey("Customer", on_delete=models.CASCADE, related_name="dates")
    kind = models.CharField(_("occasion"), max_length=20, choices=Kind.choices)
    label = models.CharField(_("label"), max_length=100, blank=True)
    month = models.PositiveSmallIntegerField(_("month"))
    day = models.PositiveSmallIntegerField(_("day"))
    year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["month", "day", "id"]
        indexes = [models.Index(fields=["shop", "month", "day"], name="customer_date_shop_md")]
        constraints = [
            models.CheckConstraint(
                condition=Q(month__range=(1, 12)) & Q(day__range=(1, 31)),
                name="customer_date_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.kind} {self.month:02d}-{self.day:02d}"


class ConsentRecord(models.Model):
    """One answer a person gave a shop about contacting them; rows are only ever added.

    The proof a regulator asks for: when, through what (``source``), from which address, and the
    very words shown when the box was ticked or unticked.
    """

    class Topic(models.TextChoices):
        EMAIL_MARKETING = "email_marketing", _("Marketing e-mail")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="consent_records")
    customer = models.ForeignKey("Customer", on_delete=models.CASCADE, related_name="consents")
    topic = models.CharField(max_length=30, choices=Topic.choices)
    granted = models.BooleanField()
    recorded_at = models.DateTimeField()
    source = models.CharField(max_length=40)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    wording = models.TextField(blank=True)

    class Meta:
        ordering = ["-recorded_at", "-id"]
        indexes = [models.Index(fields=["shop", "customer", "topic", "recorded_at"])]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.topic}={'yes' if self.granted else 'no'}"


class CustomerMerge(models.Model):
    """A record that one customer was folded into another, with what the merged one was."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="customer_merges")
    kept = models.ForeignKey("Customer", on_delete=models.CASCADE, related_name="merges")
    # The merged customer's row is gone; its id, address and name are kept here.
    merged_customer_id = models.BigIntegerField()
    merged_email = models.EmailField(blank=True)
    merged_name = models.CharField(max_length=150, blank=True)
    merged_at = models.DateTimeField()
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    automatic = models.BooleanField(default=False)
    # How many rows of each kind moved to the kept customer, e.g. {"interactions": 12}.
    moved = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-merged_at", "-id"]

    def __str__(self) -> str:
        return f"{self.merged_customer_id} → {self.kept_id}"


class Erasure(models.Model):
    """A person's request that a shop erase their personal data, and when it was carried out."""

    class RequestedBy(models.TextChoices):
        FAN = "fan", _("The fan")
        STAFF = "staff", _("Shop staff")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="erasures")
    # Null once carried out would lose the link; the customer row stays (anonymised) instead.
    customer = models.ForeignKey("Customer", on_delete=models.CASCADE, related_name="erasures")
    requested_at = models.DateTimeField()
    requested_by = models.CharField(max_length=10, choices=RequestedBy.choices)
    completed_at = models.DateTimeField(null=True, blank=True)
    # What was removed, per kind of row, e.g. {"orders": 3, "interactions": 40}; no personal data.
    # The addresses the person was known by stay only as digests, in ErasedAddress.
    summary = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return f"erasure of {self.customer_id} ({'done' if self.completed_at else 'pending'})"


class ErasedAddress(models.Model):
    """An e-mail address by which a person erased from the shop was known, kept only as its
    one-way digest (``crm.services.privacy.erased_address_digest``, salted per shop), so that a
    later import of old history recognises the person and leaves their lines out instead of
    bringing them back. The address cannot be read back from it.

    An erasure keeps one for each address the person was known by in the shop: the record's own,
    its account's, and those of the records merged into it. An address is kept once per shop: when
    it is erased again (a fan who came back and asked again), the row of the first erasure stays.
    Erasures made before these rows existed have only the one digest they had, of the record's
    own address (migration 0012 copied it here); those made before migration 0009 have none. The
    addresses missing were never kept and cannot be recovered.
    """

    # The unique index starts with the shop: a separate index on it alone would only cost writes.
    shop = models.ForeignKey(
        Shop, on_delete=models.CASCADE, related_name="erased_addresses", db_index=False
    )
    erasure = models.ForeignKey(Erasure, on_delete=models.CASCADE, related_name="addresses")
    digest = models.CharField(max_length=64)

    class Meta:
        constraints = [
            # Also the index the imports look addresses up in, one shop at a time.
            models.UniqueConstraint(fields=["shop", "digest"], name="erased_address_unique_digest"),
        ]

    def __str__(self) -> str:
        return f"erased address {self.digest[:12]}… of shop {self.shop_id}"
