"""Shops, the people who run them, and their shipping rates."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from kinfolk.core.money import known_currencies

# First path segments the platform uses itself; a shop cannot take them as its slug.
RESERVED_SLUGS = frozenset(
    {
        "admin",
        "accounts",
        "account",
        "api",
        "cart",
        "checkout",
        "dashboard",
        "health",
        "i18n",
        "media",
        "orders",
        "payments",
        "static",
        "testpay",
        "s",
        "p",
        "shops",
        "verify",
    }
)


def validate_shop_slug(value: str) -> None:
    if value in RESERVED_SLUGS:
        raise ValidationError(_("This address is reserved; choose another."))


def validate_currency(value: str) -> None:
    if value not in known_currencies():
        raise ValidationError(_("Unknown currency code."))


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("Unknown time zone."))


class Shop(models.Model):
    """One maker's shop; one installation hosts many."""

    slug = models.SlugField(
        _("address"), max_length=50, unique=True, validators=[validate_shop_slug]
    )
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    currency = models.CharField(_("currency"), max_length=3, validators=[validate_currency])
    time_zone = models.CharField(_("time zone"), max_length=64, validators=[validate_time_zone])
    country = models.CharField(_("country"), max_length=2)
    logo = models.ImageField(_("logo"), upload_to="shops/logos/", blank=True)
    shipping_cutoff = models.TimeField(_("daily shipping cut-off"), default=dt.time(14, 0))
    is_active = models.BooleanField(_("open"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class Membership(models.Model):
    """A person's role in a shop: owner or staff."""

    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        STAFF = "staff", _("Staff")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.STAFF)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "user"], name="membership_unique_shop_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.shop} ({self.role})"


class ShippingZone(models.Model):
    """A flat shipping rate for a set of countries; an empty country list covers the rest of the world.

    ``free_over`` (minor units, optional) makes shipping free when the subtotal reaches it.
    """

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="shipping_zones")
    name = models.CharField(_("name"), max_length=80)
    countries = models.JSONField(_("countries"), default=list, blank=True)
    rate = models.PositiveIntegerField(_("rate (minor units)"))
    free_over = models.PositiveIntegerField(_("free over (minor units)"), null=True, blank=True)

    class Meta:
        ordering = ["shop", "id"]

    def __str__(self) -> str:
        return f"{self.shop.slug}: {self.name}"

    @property
    def is_rest_of_world(self) -> bool:
        return not self.countries
