"""Digital releases: how a digital product is given away or sold, its files, who may download
them (grants), every download, and the e-mail gate in front of a free download."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from kinfolk.catalog.models import Product
from kinfolk.core.storage import private_storage
from kinfolk.crm.models import Customer
from kinfolk.orders.models import Order
from kinfolk.shops.models import Shop


def new_token() -> str:
    """Return an unguessable token for a link in an e-mail (43 URL-safe characters)."""
    return secrets.token_urlsafe(32)


class Release(models.Model):
    """The release side of a digital product: its price rule, the e-mail gate and the limits of
    its download links.

    The price itself is the product's (single) variant's: the fixed price, or the minimum of a
    pay-what-you-want release (0 allowed). A fan may always pay more than it.
    """

    class Pricing(models.TextChoices):
        FREE = "free", _("Free")
        FIXED = "fixed", _("Fixed price")
        PAY_WHAT_YOU_WANT = "pwyw", _("Pay what you want")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="releases")
    product = models.OneToOneField(Product, on_delete=models.CASCADE, related_name="release")
    pricing = models.CharField(
        _("price"), max_length=10, choices=Pricing.choices, default=Pricing.FREE
    )
    # Shown pre-filled in a pay-what-you-want amount box; minor units; NULL: the minimum.
    suggested_price = models.PositiveBigIntegerField(_("suggested price"), null=True, blank=True)
    # A free download (or a pay-what-you-want one taken for 0) first asks for an e-mail address
    # and sends the link there; without the gate, anyone on the page may download.
    email_gate = models.BooleanField(
        _("ask for an e-mail address before a free download"), default=True
    )
    # Downloads allowed per file for each grant (one purchase, one free claim); a fan who runs
    # out asks the shop.
    download_limit = models.PositiveSmallIntegerField(
        _("downloads per file and purchase"), default=5
    )
    # How long a signed download link works once issued; a fan can always get a fresh one from
    # their library or from a new e-mail.
    link_hours = models.PositiveSmallIntegerField(_("hours a download link works"), default=24)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(download_limit__gte=1), name="release_limit_positive"
            ),
            models.CheckConstraint(
                condition=Q(link_hours__gte=1), name="release_link_hours_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.product.name

    @property
    def is_free(self) -> bool:
        return self.pricing == self.Pricing.FREE


class ReleaseFile(models.Model):
    """A file of a release, kept in the private storage.

    ``download`` files are what a fan gets; ``preview`` files (a clip, a low-bitrate version)
    play to anyone on the release page. The audio downloads of a free release without an e-mail
    gate may play as previews too.
    """

    class Role(models.TextChoices):
        DOWNLOAD = "download", _("Download")
        PREVIEW = "preview", _("Preview")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="release_files")
    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="files")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.DOWNLOAD)
    file = models.FileField(storage=private_storage, upload_to="releases/%Y/%m/", max_length=255)
    # The name the fan's browser saves it under, e.g. "01 - Night Drive.mp3".
    name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["release", "role", "position"])]

    def __str__(self) -> str:
        return self.name


class Grant(models.Model):
    """A person's right to download a release: bought with an order, claimed for free, given as
    a reward or by the shop. The fan's library lists their grants across every shop."""

    class Source(models.TextChoices):
        FREE = "free", _("Free download")
        ORDER = "order", _("Purchase")
        REWARD = "reward", _("Reward")
        STAFF = "staff", _("Given by the shop")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="release_grants")
    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="grants")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="release_grants")
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="release_grants",
    )
    source = models.CharField(max_length=10, choices=Source.choices)
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, null=True, blank=True, related_name="release_grants"
    )
    created_at = models.DateTimeField()
    # Set when the order behind the grant was cancelled or refunded: its links stop working.
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One free (or reward, or staff) grant per person and release: claiming again
            # returns the first; one grant per release and order.
            models.UniqueConstraint(
                fields=["release", "customer"],
                condition=Q(order__isnull=True),
                name="grant_unique_unpaid_per_customer",
            ),
            models.UniqueConstraint(
                fields=["release", "order"],
                condition=Q(order__isnull=False),
                name="grant_unique_per_order",
            ),
        ]
        indexes = [
            models.Index(fields=["account", "created_at"]),
            models.Index(fields=["shop", "customer"]),
        ]

    def __str__(self) -> str:
        return f"{self.release} → {self.customer}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class DownloadAllowance(models.Model):
    """How many times a grant's file was downloaded; taken with one conditional UPDATE
    (``used < limit``) so that two downloads at once never pass the limit."""

    grant = models.ForeignKey(Grant, on_delete=models.CASCADE, related_name="allowances")
    file = models.ForeignKey(ReleaseFile, on_delete=models.CASCADE, related_name="+")
    used = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["grant", "file"], name="allowance_unique_grant_file"),
        ]


class Download(models.Model):
    """One download that started: counted per release and day on the shop's pages."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="downloads")
    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="downloads")
    file = models.ForeignKey(ReleaseFile, on_delete=models.SET_NULL, null=True, related_name="+")
    # Both empty for a download of a free release without an e-mail gate by a visitor the
    # shop does not know: counted, but nobody's.
    grant = models.ForeignKey(
        Grant, on_delete=models.CASCADE, null=True, blank=True, related_name="downloads"
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, null=True, blank=True, related_name="downloads"
    )
    downloaded_at = models.DateTimeField()

    class Meta:
        ordering = ["-downloaded_at", "-id"]
        indexes = [
            models.Index(fields=["shop", "downloaded_at"]),
            models.Index(fields=["release", "downloaded_at"]),
        ]


class EmailGate(models.Model):
    """A visitor's request for a free download by e-mail, until they confirm the address.

    Nothing else is stored before confirmation: no customer, no consent. Confirming creates (or
    finds) the customer, grants the release, and, when the separate unticked box was ticked,
    asks for the mailing list's own confirmation (double opt-in).
    """

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="email_gates")
    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="email_gates")
    email = models.EmailField()
    token = models.CharField(max_length=64, unique=True, default=new_token)
    language = models.CharField(max_length=10, default="en")
    # The mailing-list choice and the exact words shown beside it, kept for the consent record.
    wants_marketing = models.BooleanField(default=False)
    marketing_wording = models.TextField(blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    # The share link the visitor arrived through (its first-touch cookie), credited on confirm.
    referral_code = models.CharField(max_length=32, blank=True)
    requested_at = models.DateTimeField()
    sent_count = models.PositiveSmallIntegerField(default=0)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    grant = models.ForeignKey(
        Grant, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            # The same address gated twice reuses its request (a fresh e-mail, not a second row).
            models.UniqueConstraint(
                "release", Lower("email"), name="emailgate_unique_release_email"
            ),
        ]
        indexes = [models.Index(fields=["shop", "requested_at"])]

    def __str__(self) -> str:
        return f"{self.email} → {self.release}"
