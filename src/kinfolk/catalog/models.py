"""Products, their variants (SKU, price, stock) and images."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kinfolk.shops.models import Shop


class Product(models.Model):
    class Kind(models.TextChoices):
        PHYSICAL = "physical", _("Physical")
        DIGITAL = "digital", _("Digital")
        MADE_TO_ORDER = "made_to_order", _("Made to order")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        ARCHIVED = "archived", _("Archived")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="products")
    slug = models.SlugField(_("address"), max_length=80)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.PHYSICAL)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    # A word that groups products for the shop and its CRM ("Music", "Apparel", "Parts"); free
    # text, so that each shop uses its own words.
    category = models.CharField(_("category"), max_length=60, blank=True)
    description = models.TextField(_("description (Markdown)"), blank=True)
    # Sanitised HTML rendered from ``description`` by the catalog services when it changes.
    description_html = models.TextField(blank=True, editable=False)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "slug"], name="product_unique_shop_slug"),
        ]
        indexes = [
            models.Index(fields=["shop", "status", "position"]),
            models.Index(fields=["shop", "category"], name="product_shop_category"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def needs_shipping(self) -> bool:
        return self.kind != self.Kind.DIGITAL


class Variant(models.Model):
    """A buyable form of a product. Stock is either tracked (a count that never goes below 0)
    or unlimited (``stock`` is NULL), as for digital and made-to-order products."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="variants")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    sku = models.CharField(_("SKU"), max_length=64)
    name = models.CharField(_("option"), max_length=120, blank=True)
    price = models.PositiveBigIntegerField(_("price (minor units)"))
    stock = models.IntegerField(_("stock"), null=True, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "sku"], name="variant_unique_shop_sku"),
            models.CheckConstraint(
                condition=Q(stock__isnull=True) | Q(stock__gte=0), name="variant_stock_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product.name} – {self.name}" if self.name else self.product.name

    @property
    def tracks_stock(self) -> bool:
        return self.stock is not None

    @property
    def in_stock(self) -> bool:
        return self.stock is None or self.stock > 0

    def shortage_message(self) -> str:
        """Return what a fan reads on asking for more than is in stock: sold out, or only N left."""
        if self.stock == 0:
            return gettext("%(item)s is sold out.") % {"item": self}
        return gettext("Only %(count)s of %(item)s left.") % {"count": self.stock, "item": self}


class ProductImage(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="product_images")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(
        upload_to="products/%Y/%m/", width_field="width", height_field="height"
    )
    width = models.PositiveIntegerField(null=True, editable=False)
    height = models.PositiveIntegerField(null=True, editable=False)
    alt = models.CharField(_("description for screen readers"), max_length=200, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.alt or self.image.name
