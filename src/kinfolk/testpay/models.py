"""Charges of the simulated card processor, their refunds and the callbacks it tried to deliver."""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kinfolk.core import clock
from kinfolk.core.errors import InvalidTransition


class Charge(models.Model):
    """One request for money from a merchant, decided once by the card the buyer enters."""

    class Status(models.TextChoices):
        # Waiting on the hosted page for the buyer's card.
        CREATED = "created", _("Created")
        # The card was accepted; the merchant is told by a signed ``charge.approved`` callback.
        APPROVED = "approved", _("Approved")
        # The card was refused (``decline_reason`` says why); final, like a real processor.
        DECLINED = "declined", _("Declined")
        # The merchant withdrew the request (the order was cancelled) before a card was taken;
        # final, and no callback is sent.
        VOIDED = "voided", _("Voided")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    merchant_reference = models.CharField(_("merchant reference"), max_length=100, db_index=True)
    amount = models.PositiveBigIntegerField(_("amount (minor units)"))
    currency = models.CharField(_("currency"), max_length=3)
    description = models.CharField(_("description"), max_length=200, blank=True)
    callback_url = models.URLField(_("callback URL"), max_length=500)
    return_url = models.URLField(_("return URL"), max_length=500)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.CREATED
    )
    decline_reason = models.CharField(_("decline reason"), max_length=40, blank=True)
    card_last4 = models.CharField(_("card last 4"), max_length=4, blank=True)
    # The issuer closed the card after it paid (a test card does that): refunds to it fail until
    # it is reopened (``charge_card_reopen``), as a real issuer refuses money for a closed account.
    card_closed = models.BooleanField(_("card closed"), default=False)
    # What the succeeded refunds gave back; never more than the charge (a CHECK constraint).
    amount_refunded = models.PositiveBigIntegerField(_("amount refunded (minor units)"), default=0)
    event_id = models.CharField(_("event id"), max_length=40, blank=True)
    created_at = models.DateTimeField(_("created"), default=clock.now)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)
        constraints = (
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="testpay_charge_amount_positive"
            ),
            # A charge is either undecided with no event, decided with its one event, or voided
            # (without a card, so without an event).
            models.CheckConstraint(
                condition=(
                    Q(status="created", decided_at__isnull=True, event_id="")
                    | (
                        Q(status__in=["approved", "declined"], decided_at__isnull=False)
                        & ~Q(event_id="")
                    )
                    | Q(status="voided", decided_at__isnull=False, event_id="")
                ),
                name="testpay_charge_decision_consistent",
            ),
            models.UniqueConstraint(
                fields=["event_id"],
                condition=~Q(event_id=""),
                name="testpay_charge_event_id_unique",
            ),
            models.CheckConstraint(
                condition=Q(amount_refunded__lte=models.F("amount")),
                name="testpay_charge_not_overrefunded",
            ),
        )

    def __str__(self) -> str:
        return f"{self.id} ({self.status})"

    def get_absolute_url(self) -> str:
        """Return the path of the hosted payment page."""
        return reverse("testpay:pay", kwargs={"charge_id": self.pk})

    @property
    def is_decided(self) -> bool:
        return self.status != self.Status.CREATED

    @property
    def is_voided(self) -> bool:
        return self.status == self.Status.VOIDED

    @property
    def refundable(self) -> int:
        """Return what is left to refund: the amount of an approved charge less its refunds."""
        if self.status != self.Status.APPROVED:
            return 0
        return self.amount - self.amount_refunded

    def void(self, *, at: dt.datetime) -> None:
        """Withdraw the undecided charge so that no card can pay it; refuse a decided one."""
        if self.is_decided:
            raise InvalidTransition(
                _("This charge has already been processed."), code="already_decided"
            )
        self.status = self.Status.VOIDED
        self.decided_at = at

    def decide(self, *, decline_reason: str, card_last4: str, at: dt.datetime) -> None:
        """Approve (empty ``decline_reason``) or decline the charge; refuse a second decision."""
        if self.is_decided:
            raise InvalidTransition(
                _("This charge has already been processed."), code="already_decided"
            )
        self.status = self.Status.DECLINED if decline_reason else self.Status.APPROVED
        self.decline_reason = decline_reason
        self.card_last4 = card_last4
        self.decided_at = at
        self.event_id = f"evt_{uuid.uuid4().hex}"


class Refund(models.Model):
    """Money given back on an approved charge, all of it or part, decided at once.

    The merchant names each refund with an idempotency key (unique): asking again with the same
    key returns the same refund, so a retried request never gives money back twice. A failed
    refund gave nothing back; asking again with its key tries it again.
    """

    class Status(models.TextChoices):
        # The money went back to the card; final.
        SUCCEEDED = "succeeded", _("Succeeded")
        # Nothing went back (``failure_reason`` says why); the same key may try again.
        FAILED = "failed", _("Failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    charge = models.ForeignKey(
        Charge, on_delete=models.PROTECT, related_name="refunds", verbose_name=_("charge")
    )
    amount = models.PositiveBigIntegerField(_("amount (minor units)"))
    currency = models.CharField(_("currency"), max_length=3)
    idempotency_key = models.CharField(_("idempotency key"), max_length=100, unique=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    failure_reason = models.CharField(_("failure reason"), max_length=40, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=1)
    created_at = models.DateTimeField(_("created"), default=clock.now)
    decided_at = models.DateTimeField(_("decided"), default=clock.now)

    class Meta:
        ordering = ("-created_at",)
        constraints = (
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="testpay_refund_amount_positive"
            ),
            # A failed refund says why; a succeeded one has no failure.
            models.CheckConstraint(
                condition=Q(status="succeeded", failure_reason="")
                | (Q(status="failed") & ~Q(failure_reason="")),
                name="testpay_refund_outcome_consistent",
            ),
        )

    def __str__(self) -> str:
        return f"{self.id} ({self.status})"

    @property
    def succeeded(self) -> bool:
        return self.status == self.Status.SUCCEEDED


class CallbackAttempt(models.Model):
    """One try at delivering a charge's callback: the HTTP status, or the network error."""

    charge = models.ForeignKey(Charge, on_delete=models.CASCADE, related_name="callback_attempts")
    event_id = models.CharField(_("event id"), max_length=40)
    url = models.URLField(_("URL"), max_length=500)
    attempted_at = models.DateTimeField(_("attempted"), default=clock.now)
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)

    class Meta:
        ordering = ("attempted_at", "id")
        indexes = (models.Index(fields=["charge", "attempted_at"]),)

    def __str__(self) -> str:
        return f"{self.event_id} → {self.status_code or self.error}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
