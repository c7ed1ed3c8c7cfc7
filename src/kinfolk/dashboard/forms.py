"""Forms of the maker's dashboard: they parse what staff type; the services decide what is allowed."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from django import forms
from django.utils.translation import gettext_lazy as _

from kinfolk.catalog.models import Product, Variant
from kinfolk.catalog.services import MAX_STOCK
from kinfolk.core.errors import InvalidInput, KinfolkError
from kinfolk.core.money import Money, currency_exponent
from kinfolk.orders.models import OrderLine
from kinfolk.orders.services.refunds import new_idempotency_key


def parse_price(value: str, currency: str) -> int:
    """Return ``value`` (major units, "12.50" USD or "15000" KRW) in minor units.

    Raises ValidationError with a message that says what the currency allows.
    """
    try:
        money = Money.from_major(value, currency)
    except InvalidInput as exc:
        if exc.code == "too_large":
            raise forms.ValidationError(exc.message, code="too_large") from None
        exponent = currency_exponent(currency)
        if is_number(value):
            if exponent == 0:
                message = _("%(currency)s prices are whole numbers, without decimals, e.g. 15000.")
            else:
                message = _(
                    "%(currency)s prices have at most %(places)s decimal places, e.g. 12.50."
                )
            raise forms.ValidationError(
                message, code="decimals", params={"currency": currency, "places": exponent}
            ) from None
        raise forms.ValidationError(
            _("Enter a price such as %(example)s."),
            code="invalid",
            params={"example": "15000" if exponent == 0 else "12.50"},
        ) from None
    if money.amount < 0:
        raise forms.ValidationError(_("Enter a price of zero or more."), code="negative")
    return money.amount


def is_number(value: str) -> bool:
    """Return whether staff typed a finite number ("12.505" is one; "NaN" and "inf" are not)."""
    try:
        return Decimal(str(value).strip().replace(",", "")).is_finite()
    except InvalidOperation:
        return False


def price_initial(amount: int, currency: str) -> str:
    """Return minor units as the major-unit text staff would type ("12.50", "15000")."""
    return str(Money(amount, currency).to_decimal())


def add_service_error(form: forms.Form, exc: KinfolkError) -> None:
    """Put a service error next to the fields it names, or above the form when it names none."""
    errors = exc.errors or {None: exc.message}
    for field, message in errors.items():
        form.add_error(field if field in form.fields else None, str(message))


def focus_first_error(form: forms.Form | None) -> None:
    """Put the cursor in the first field with an error, so the browser scrolls to it."""
    if form is None:
        return
    for name in form.errors:
        if name in form.fields:
            form.fields[name].widget.attrs["autofocus"] = True
            return


class PriceField(forms.CharField):
    """A price typed in major units; the form sets ``currency`` before cleaning."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault(
            "widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})
        )
        super().__init__(**kwargs)
        self.currency = "USD"

    def clean(self, value):
        value = super().clean(value)
        if value in self.empty_values:
            return None
        return parse_price(value, self.currency)


class StockField(forms.IntegerField):
    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", MAX_STOCK)
        kwargs.setdefault("label", _("Stock"))
        kwargs.setdefault("help_text", _("Leave empty for unlimited."))
        super().__init__(**kwargs)


class ProductForm(forms.Form):
    """A product's own fields, as ``product_update`` takes them."""

    name = forms.CharField(label=_("Name"), max_length=200)
    slug = forms.SlugField(
        label=_("Address"),
        max_length=80,
        help_text=_("The last part of the product's link: lowercase letters, digits and hyphens."),
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=Product.Kind.choices)
    status = forms.ChoiceField(label=_("Status"), choices=Product.Status.choices)
    category = forms.CharField(
        label=_("Category"),
        max_length=60,
        required=False,
        help_text=_("Groups products for you and your customer pages, e.g. Music or Apparel."),
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Markdown: **bold**, *italic*, [link](https://…), lists with -."),
    )

    PRODUCT_FIELDS = ("name", "slug", "kind", "status", "category", "description")

    @classmethod
    def for_product(cls, product: Product, data=None) -> ProductForm:
        initial = {name: getattr(product, name) for name in cls.PRODUCT_FIELDS}
        return cls(data=data, initial=initial)

    def product_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.PRODUCT_FIELDS}


class ProductCreateForm(ProductForm):
    """A new product and its first variant, as ``product_create`` takes them."""

    price = PriceField(label=_("Price"))
    sku = forms.CharField(
        label=_("SKU"), max_length=64, required=False, help_text=_("Leave empty to make one up.")
    )
    variant_name = forms.CharField(
        label=_("Option"),
        max_length=120,
        required=False,
        help_text=_("E.g. size M or vinyl; leave empty if there is only one."),
    )
    stock = StockField()

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False
        self.fields["slug"].help_text = _("Leave empty to make one from the name.")
        self.fields["price"].currency = currency
        self.fields["price"].help_text = _("In %(currency)s.") % {"currency": currency}

    def create_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            **self.product_fields(),
            "price": data["price"],
            "sku": data["sku"].strip(),
            "variant_name": data["variant_name"].strip(),
            "stock": data["stock"],
        }


class VariantForm(forms.Form):
    """One variant, as ``variant_create`` and ``variant_update`` take it."""

    sku = forms.CharField(label=_("SKU"), max_length=64)
    name = forms.CharField(label=_("Option"), max_length=120, required=False)
    price = PriceField(label=_("Price"))
    stock = StockField()
    # The stock the page showed: the edit applies only if orders have not changed it since.
    stock_seen = forms.CharField(required=False, widget=forms.HiddenInput)

    # Set when saving was refused because the stock changed: the page then shows the new figure.
    stock_seen_stale = False

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["price"].currency = currency
        self.fields["price"].help_text = _("In %(currency)s.") % {"currency": currency}

    @classmethod
    def for_variant(cls, variant: Variant, *, currency: str, data=None) -> VariantForm:
        initial = {
            "sku": variant.sku,
            "name": variant.name,
            "price": price_initial(variant.price, currency),
            "stock": variant.stock,
            "stock_seen": _stock_text(variant.stock),
        }
        return cls(data=data, initial=initial, currency=currency, prefix=f"v{variant.pk}")

    def seen_stock(self) -> int | None:
        """Return the stock the page showed (None: unlimited)."""
        text = (self.cleaned_data.get("stock_seen") or "").strip()
        if text.isascii() and text.isdigit() and int(text) <= MAX_STOCK:
            return int(text)
        return None

    def show_stock_now(self, stock: int | None) -> None:
        """Make ``stock`` the figure the page shows as seen; what staff typed stays."""
        self.data = self.data.copy()
        self.data[self.add_prefix("stock_seen")] = _stock_text(stock)

    def variant_fields(self) -> dict:
        data = self.cleaned_data
        return {
            "sku": data["sku"].strip(),
            "name": data["name"].strip(),
            "price": data["price"],
            "stock": data["stock"],
        }


def _stock_text(stock: int | None) -> str:
    return "" if stock is None else str(stock)


class ImageForm(forms.Form):
    image = forms.FileField(label=_("Image"), help_text=_("JPEG, PNG, WebP or GIF, up to 10 MB."))
    alt = forms.CharField(label=_("Description for screen readers"), max_length=200, required=False)


class ReasonForm(forms.Form):
    """The note that goes with mark paid, cancel and refund."""

    note = forms.CharField(label=_("Note"), max_length=500, required=False)


class RefundForm(forms.Form):
    """A refund: how much (everything left, as filled in), why, and the key that makes a
    repeated submit refund once."""

    amount = forms.CharField(
        label=_("Amount to refund"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    note = forms.CharField(label=_("Note"), max_length=500, required=False)
    idempotency_key = forms.CharField(max_length=64, required=False, widget=forms.HiddenInput)

    def __init__(self, *args, currency: str, left: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.fields["amount"].initial = price_initial(left, currency)
        self.fields["amount"].help_text = _(
            "At most %(left)s. Everything left refunds the whole order."
        ) % {"left": Money(left, currency).format()}
        if not self.is_bound:
            self.fields["idempotency_key"].initial = new_idempotency_key()

    def clean_amount(self) -> int | None:
        """Return the amount in minor units, or None for everything left (left empty)."""
        value = (self.cleaned_data.get("amount") or "").strip()
        if not value:
            return None
        exponent = currency_exponent(self.currency)
        try:
            return Money.from_major(value, self.currency).amount
        except InvalidInput as exc:
            if exc.code == "too_large":
                raise forms.ValidationError(exc.message, code="too_large") from None
        if not is_number(value):
            raise forms.ValidationError(
                _("Enter an amount such as %(example)s."),
                code="invalid",
                params={"example": "15000" if exponent == 0 else "12.50"},
            )
        if exponent == 0:
            message = _("%(currency)s amounts are whole numbers, without decimals.")
        else:
            message = _("%(currency)s amounts have at most %(places)s decimal places.")
        raise forms.ValidationError(
            message, code="decimals", params={"currency": self.currency, "places": exponent}
        )


class RefundActionForm(forms.Form):
    """Which refund of the order "Try again" or "Mark refund as sent" is for."""

    refund = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


class ShipForm(forms.Form):
    """A parcel: carrier, tracking number and how many of each line still to ship it holds."""

    carrier = forms.CharField(
        label=_("Carrier"),
        max_length=80,
        error_messages={"required": _("Enter the carrier, e.g. CJ Logistics or USPS.")},
    )
    tracking_number = forms.CharField(
        label=_("Tracking number"),
        max_length=80,
        error_messages={"required": _("Enter the tracking number.")},
    )

    def __init__(self, *args, lines: Iterable[OrderLine], **kwargs):
        super().__init__(*args, **kwargs)
        # Digital lines are delivered by download; only physical lines go in a parcel.
        self.lines = [
            line
            for line in lines
            if line.quantity > line.shipped_quantity and line.product_kind != "digital"
        ]
        for line in self.lines:
            left = line.quantity - line.shipped_quantity
            self.fields[self.line_field(line)] = forms.IntegerField(
                label=line.product_name + (f" – {line.variant_name}" if line.variant_name else ""),
                min_value=0,
                max_value=left,
                initial=left,
                widget=forms.NumberInput(attrs={"class": "qty"}),
            )

    @staticmethod
    def line_field(line: OrderLine) -> str:
        return f"line_{line.pk}"

    def line_rows(self) -> list[tuple[OrderLine, forms.BoundField]]:
        return [(line, self[self.line_field(line)]) for line in self.lines]

    def quantities(self) -> dict[int, int]:
        return {line.pk: self.cleaned_data[self.line_field(line)] for line in self.lines}
