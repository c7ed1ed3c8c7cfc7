"""Forms of the drops pages: they parse what staff type; ``drops.services.editions`` decides.

Times are typed in the shop's time zone: the views run inside ``timezone.override(shop.tzinfo)``
(``shop_view``), so Django's DateTimeField reads "2026-12-01T20:00" as the shop's local time
and refuses a time that does not exist or happens twice there (summer-time changes).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from kinfolk.catalog.models import Variant
from kinfolk.core.money import Money
from kinfolk.dashboard.forms import PriceField
from kinfolk.drops.models import Edition
from kinfolk.drops.services.editions import MAX_EDITION_SIZE

NEW_PRODUCT = "new"
MAX_HOLD_MINUTES = 24 * 60
MAX_EARLY_FANS = 10_000
_EMAIL_SEPARATORS = re.compile(r"[\s,;]+")


class LocalDateTimeInput(forms.DateTimeInput):
    """The browser's date and time picker; the value is the shop's local time."""

    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


def _when(label, *, required: bool = True, help_text="") -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label, required=required, widget=LocalDateTimeInput(), help_text=help_text
    )


def parse_emails(text: str) -> tuple[list[str], list[str]]:
    """Return the addresses in ``text`` (one a line, or separated by commas) and the bad ones."""
    good, bad = [], []
    for item in _EMAIL_SEPARATORS.split(text or ""):
        item = item.strip().strip("<>")
        if not item:
            continue
        try:
            validate_email(item)
        except ValidationError:
            bad.append(item)
        else:
            good.append(item.lower())
    return list(dict.fromkeys(good)), bad


class EarlyFansField(forms.CharField):
    """E-mail addresses pasted one per line; cleans to a list of distinct addresses."""

    widget = forms.Textarea(
        attrs={"rows": 5, "class": "emails", "spellcheck": "false", "autocomplete": "off"}
    )

    def to_python(self, value) -> list[str]:
        text = super().to_python(value)
        emails, bad = parse_emails(text)
        if bad:
            shown = ", ".join(bad[:5]) + (" …" if len(bad) > 5 else "")
            raise ValidationError(
                _("These are not e-mail addresses: %(bad)s"), params={"bad": shown}, code="bad"
            )
        if len(emails) > MAX_EARLY_FANS:
            raise ValidationError(
                _("At most %(max)s addresses."), params={"max": f"{MAX_EARLY_FANS:,}"}
            )
        return emails


class DropForm(forms.Form):
    """An edition's size, schedule, limits and early access, as ``edition_update`` takes them."""

    size = forms.IntegerField(
        label=_("Copies"),
        min_value=1,
        max_value=MAX_EDITION_SIZE,
        help_text=_("Numbered 1 to this number."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    opens_at = _when(_("Opens"))
    closes_at = _when(
        _("Closes"), required=False, help_text=_("Leave empty to sell until every copy is gone.")
    )
    per_fan_limit = forms.IntegerField(
        label=_("Copies per fan"),
        min_value=1,
        max_value=MAX_EDITION_SIZE,
        initial=1,
        help_text=_("Counted by account and by e-mail address, over the whole drop."),
    )
    hold_minutes = forms.IntegerField(
        label=_("Hold time (minutes)"),
        min_value=1,
        max_value=MAX_HOLD_MINUTES,
        initial=10,
        help_text=_("How long a reserved copy waits for the fan's payment."),
    )
    early_access = forms.ChoiceField(
        label=_("Early access"),
        choices=Edition.EarlyAccess.choices,
        initial=Edition.EarlyAccess.NONE,
        widget=forms.RadioSelect,
    )
    early_access_opens_at = _when(
        _("Early access opens"), required=False, help_text=_("Before the drop opens.")
    )
    early_access_emails = EarlyFansField(
        label=_("Chosen fans"),
        required=False,
        help_text=_("Their e-mail addresses, one per line."),
    )

    EDITION_FIELDS = (
        "size",
        "opens_at",
        "closes_at",
        "per_fan_limit",
        "hold_minutes",
        "early_access",
        "early_access_opens_at",
    )

    # Needed only for some choices (early access, a new product): not marked "(optional)".
    CONDITIONAL = ("early_access_opens_at", "early_access_emails", "new_name", "new_price")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.CONDITIONAL:
            if name in self.fields:
                self.fields[name].conditional = True

    @classmethod
    def for_edition(cls, edition: Edition, *, data=None) -> DropForm:
        initial = {name: getattr(edition, name) for name in cls.EDITION_FIELDS}
        initial["early_access_emails"] = "\n".join(
            fan.email for fan in edition.early_fans.order_by("email")
        )
        return cls(data=data, initial=initial)

    def ignore(self, *names: str) -> None:
        """Forget what was typed into fields the chosen options leave unused (and hidden)."""
        for name in names:
            self._errors.pop(name, None)
            self.cleaned_data[name] = [] if name == "early_access_emails" else None

    def clean(self):
        data = super().clean()
        early = data.get("early_access")
        if early == Edition.EarlyAccess.NONE:
            self.ignore("early_access_opens_at", "early_access_emails")
        elif early == Edition.EarlyAccess.PAST_BUYERS:
            self.ignore("early_access_emails")
        opens, closes = data.get("opens_at"), data.get("closes_at")
        if opens and closes and closes <= opens:
            self.add_error("closes_at", _("The drop must close after it opens."))
        if early and early != Edition.EarlyAccess.NONE:
            early_opens = data.get("early_access_opens_at")
            if early_opens is None and "early_access_opens_at" not in self.errors:
                self.add_error("early_access_opens_at", _("Say when early access opens."))
            elif opens and early_opens and early_opens >= opens:
                self.add_error(
                    "early_access_opens_at", _("Early access must open before the drop opens.")
                )
        no_list = not data.get("early_access_emails") and "early_access_emails" not in self.errors
        if early == Edition.EarlyAccess.LIST and no_list:
            self.add_error(
                "early_access_emails", _("Paste at least one e-mail address, one per line.")
            )
        return data

    def edition_fields(self) -> dict:
        fields = {name: self.cleaned_data[name] for name in self.EDITION_FIELDS}
        if fields["early_access"] == Edition.EarlyAccess.NONE:
            fields["early_access_opens_at"] = None
        return fields

    def early_emails(self) -> list[str]:
        if self.cleaned_data["early_access"] != Edition.EarlyAccess.LIST:
            return []
        return self.cleaned_data["early_access_emails"]


def variant_label(variant: Variant, currency: str) -> str:
    price = Money(variant.price, currency).format()
    name = variant.product.name
    return f"{name} · {variant.name} — {price}" if variant.name else f"{name} — {price}"


class DropCreateForm(DropForm):
    """A new drop: a product of the shop (or a new one: name and price) and its edition."""

    product = forms.ChoiceField(label=_("Product"))
    new_name = forms.CharField(label=_("New product's name"), max_length=200, required=False)
    new_price = PriceField(label=_("Price"), required=False)

    field_order = ["product", "new_name", "new_price"]

    def __init__(self, *args, variants: Iterable[Variant], currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.variants = {str(variant.pk): variant for variant in variants}
        self.fields["product"].choices = [(NEW_PRODUCT, _("A new product…"))] + [
            (pk, variant_label(variant, currency)) for pk, variant in self.variants.items()
        ]
        self.fields["product"].help_text = _(
            "A product of the shop that is not an edition yet, or a new one."
        )
        self.fields["new_price"].currency = currency
        self.fields["new_price"].help_text = _("In %(currency)s.") % {"currency": currency}

    def clean(self):
        data = super().clean()
        if data.get("product") != NEW_PRODUCT:
            self.ignore("new_name", "new_price")
            return data
        if not (data.get("new_name") or "").strip() and "new_name" not in self.errors:
            self.add_error("new_name", _("Name the new product."))
        if data.get("new_price") is None and "new_price" not in self.errors:
            self.add_error("new_price", _("Give the new product a price."))
        return data

    def chosen_variant(self) -> Variant | None:
        """Return the chosen variant, or None for a new product."""
        return self.variants.get(self.cleaned_data["product"])

    def new_product(self) -> dict:
        return {
            "name": self.cleaned_data["new_name"].strip(),
            "price": self.cleaned_data["new_price"],
        }


class EarlyFansForm(forms.Form):
    """The chosen fans alone, while early access runs (the rest can no longer change)."""

    early_access_emails = EarlyFansField(
        label=_("Chosen fans"),
        required=False,
        help_text=_("Their e-mail addresses, one per line. Fans added now may buy at once."),
    )
