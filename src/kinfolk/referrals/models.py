"""Word of mouth, measured: each fan's personal share link, the visits it brings, the people it
brought (first touch), what they went on to do, and the rewards the shop gives for it."""

from __future__ import annotations

import secrets

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from kinfolk.crm.models import Customer
from kinfolk.orders.models import Order
from kinfolk.releases.models import Grant, Release
from kinfolk.shops.models import Shop


def new_share_code() -> str:
    """Return a short code for a share link (10 URL-safe characters, about 60 bits)."""
    return secrets.token_urlsafe(8)[:10]


class Channel(models.TextChoices):
    """Where a visit through a share link came from (the share button used, else the referrer)."""

    DIRECT = "direct", _("Direct or copied link")
    X = "x", _("X (Twitter)")
    FACEBOOK = "facebook", _("Facebook")
    WHATSAPP = "whatsapp", _("WhatsApp")
    TELEGRAM = "telegram", _("Telegram")
    KAKAOTALK = "kakaotalk", _("KakaoTalk")
    EMAIL = "email", _("E-mail")
    OTHER = "other", _("Other sites")


class ShareLink(models.Model):
    """A fan's personal code in one shop; appended as ``?via=CODE`` to any of the shop's pages."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="share_links")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="share_links")
    code = models.CharField(max_length=32, unique=True, default=new_share_code)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "customer"], name="sharelink_unique_customer"),
        ]

    def __str__(self) -> str:
        return self.code


class ShareVisit(models.Model):
    """A visit that arrived through a share link (crawlers fetching link previews excluded)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="share_visits")
    link = models.ForeignKey(ShareLink, on_delete=models.CASCADE, related_name="visits")
    visited_at = models.DateTimeField()
    channel = models.CharField(max_length=20, choices=Channel.choices, default=Channel.DIRECT)
    path = models.CharField(max_length=300)
    # A hash of the visitor's first-touch cookie: unique visitors without keeping who they are.
    visitor = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["shop", "visited_at"]),
            models.Index(fields=["link", "visited_at"]),
        ]


class Referral(models.Model):
    """Who brought whom: the first share link a person arrived through before the shop knew
    them. One per person and shop (a second referrer gets no credit); never oneself."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="referrals")
    referrer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="referrals_made")
    referred = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="referred_by")
    link = models.ForeignKey(ShareLink, on_delete=models.CASCADE, related_name="referrals")
    channel = models.CharField(max_length=20, choices=Channel.choices, default=Channel.DIRECT)
    first_visit_at = models.DateTimeField()
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "referred"], name="referral_unique_referred"),
            models.CheckConstraint(condition=~Q(referrer=F("referred")), name="referral_not_self"),
        ]
        indexes = [models.Index(fields=["shop", "referrer", "created_at"])]


class ReferralCredit(models.Model):
    """Something a referred person did that counts for the fan who brought them."""

    class Kind(models.TextChoices):
        SIGNUP = "signup", _("Signed up")
        DOWNLOAD = "download", _("Downloaded")
        ORDER = "order", _("Bought")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="referral_credits")
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="credits")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # What was done, e.g. the order's number or the release's id: each counts once.
    subject_id = models.CharField(max_length=64)
    occurred_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["referral", "kind", "subject_id"], name="referralcredit_unique_subject"
            ),
        ]
        indexes = [models.Index(fields=["shop", "kind", "occurred_at"])]


class RewardRule(models.Model):
    """ "``threshold`` friends did ``event`` → reward": a bonus release, or a discount off the
    fan's next order."""

    class Reward(models.TextChoices):
        BONUS_RELEASE = "bonus_release", _("A bonus release")
        DISCOUNT = "discount", _("A discount on the next order")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="reward_rules")
    name = models.CharField(_("name"), max_length=120)
    event = models.CharField(_("when friends"), max_length=10, choices=ReferralCredit.Kind.choices)
    threshold = models.PositiveSmallIntegerField(_("how many friends"))
    reward = models.CharField(_("reward"), max_length=20, choices=Reward.choices)
    release = models.ForeignKey(
        Release, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    discount_percent = models.PositiveSmallIntegerField(_("discount (%)"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["threshold", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(threshold__gte=1), name="rewardrule_threshold"),
            models.CheckConstraint(
                condition=(
                    Q(reward="bonus_release", release__isnull=False)
                    | Q(
                        reward="discount",
                        discount_percent__gte=1,
                        discount_percent__lte=90,
                    )
                ),
                name="rewardrule_reward_complete",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class RewardGrant(models.Model):
    """A reward given to a fan: exactly once per rule and fan (a unique constraint, so that
    qualifying events arriving at the same time still give one)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="reward_grants")
    rule = models.ForeignKey(RewardRule, on_delete=models.CASCADE, related_name="grants")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="reward_grants")
    granted_at = models.DateTimeField()
    # A bonus release: the library grant it created.
    release_grant = models.ForeignKey(
        Grant, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # A discount: the code the fan enters (or that checkout applies for them), used once.
    code = models.CharField(max_length=32, blank=True)
    redeemed_order = models.ForeignKey(
        Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    redeemed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-granted_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "customer"], name="rewardgrant_once"),
            models.UniqueConstraint(
                fields=["code"], condition=~Q(code=""), name="rewardgrant_unique_code"
            ),
        ]


# A shop's settings of word-of-mouth credit live here rather than on Shop, so that the shops app,
# which everything depends on, learns nothing of referrals.
DEFAULT_WINDOW_DAYS = 30
MAX_WINDOW_DAYS = 365


class ReferralSettings(models.Model):
    """One shop's attribution window; a shop without a row uses ``DEFAULT_WINDOW_DAYS``."""

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="referral_settings")
    # Days a visitor who arrived through a share link still counts for the fan who shared it.
    window_days = models.PositiveSmallIntegerField(
        _("days a share link's visit counts"),
        default=DEFAULT_WINDOW_DAYS,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_WINDOW_DAYS)],
    )
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(window_days__gte=1, window_days__lte=MAX_WINDOW_DAYS),
                name="referralsettings_window_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.shop}: {self.window_days} days"
