"""Forms of the customer pages: the list's filters, saved segments, notes, tags and dates.

``CustomerFilterForm`` reads the list's query string into a ``SegmentFilter`` (amounts typed in
the shop's currency, stored in minor units) and writes a filter back as a query string, so that
tabs, sorting, pages, the export and "save as segment" all carry the same filters.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from django import forms
from django.utils.dates import MONTHS
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from kinfolk.core.errors import InvalidInput
from kinfolk.core.money import Money, babel_locale, currency_exponent, format_money
from kinfolk.crm.models import CustomerDate, Segment, Stage
from kinfolk.crm.segment_filters import MAX_QUERY_LENGTH, SegmentFilter
from kinfolk.crm.services.profiles import NOTE_MAX_LENGTH, TAG_MAX_LENGTH
from kinfolk.dashboard.forms import is_number

ANY = [("", _("Any"))]
YES_NO = [("", _("Any")), ("yes", _("Yes")), ("no", _("No"))]
# Marks a query string that carries filters, even when every filter is empty (see
# ``CustomerFilterForm.submitted``).
FILTERED = "f"


@lru_cache(maxsize=16)
def country_choices(locale: str) -> tuple[tuple[str, str], ...]:
    """Return (code, name) of every country, named in ``locale`` and sorted by name."""
    try:
        territories = Locale.parse(locale).territories
    except (UnknownLocaleError, ValueError):
        territories = Locale("en").territories
    pairs = [(code, name) for code, name in territories.items() if len(code) == 2]
    return tuple(sorted(pairs, key=lambda pair: pair[1].casefold()))


@lru_cache(maxsize=16)
def _country_options(locale: str) -> str:
    # Some 250 options: built once per language rather than through the widget templates on
    # every page (a tenth of the list page's time at a million customers).
    options = [format_html('<option value="">{}</option>', _("Any country"))]
    options += [
        format_html('<option value="{}">{}</option>', code, name)
        for code, name in country_choices(locale)
    ]
    return "".join(options)


def country_options(selected: str) -> SafeString:
    """Return the ``<option>`` elements of the country filter, ``selected`` marked."""
    html = _country_options(babel_locale())
    if selected:
        value = escape(selected)
        html = html.replace(f'<option value="{value}">', f'<option value="{value}" selected>', 1)
    return mark_safe(html)  # built from escaped parts above


def country_label(code: str) -> str:
    """Return the country's name in the active language (the code when unknown)."""
    return dict(country_choices(babel_locale())).get(code, code)


class AmountField(forms.CharField):
    """An amount typed in major units of ``currency`` ("12.50", "15000"); cleans to minor units."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
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
        try:
            amount = Money.from_major(value, self.currency).amount
        except InvalidInput as exc:
            if exc.code == "too_large" or is_number(value):
                # Too large, or more decimal places than the currency has: the message says so.
                raise forms.ValidationError(exc.message) from None
            example = "15000" if currency_exponent(self.currency) == 0 else "12.50"
            raise forms.ValidationError(
                _("Enter an amount such as %(example)s."), params={"example": example}
            ) from None
        if amount < 0:
            raise forms.ValidationError(_("Enter an amount of zero or more."))
        return amount


def _yes_no(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


class CustomerFilterForm(forms.Form):
    """The customers list's filters, as a GET form; ``spec()`` gives the SegmentFilter."""

    q = forms.CharField(label=_("Search"), max_length=MAX_QUERY_LENGTH, required=False)
    stage = forms.MultipleChoiceField(
        label=_("Stage"), choices=Stage.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    segment = forms.MultipleChoiceField(
        label=_("RFM segment"),
        choices=Segment.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    clv_min = AmountField(label=_("Lifetime value from"))
    clv_max = AmountField(label=_("Lifetime value up to"))
    paid_min = AmountField(label=_("Total paid from"))
    paid_max = AmountField(label=_("Total paid up to"))
    country = forms.ChoiceField(label=_("Country"), required=False)
    consent = forms.ChoiceField(
        label=_("Agreed to marketing e-mail"), choices=YES_NO, required=False
    )
    purchased = forms.ChoiceField(label=_("Has bought"), choices=YES_NO, required=False)
    tag = forms.TypedMultipleChoiceField(
        label=_("Tags"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    product = forms.TypedMultipleChoiceField(
        label=_("Bought the product"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    AMOUNTS = ("clv_min", "clv_max", "paid_min", "paid_max")

    def __init__(
        self,
        *args,
        currency: str,
        tags: Iterable[tuple[int, str]] = (),
        products: Iterable[tuple[int, str]] = (),
        **kwargs,
    ):
        kwargs.setdefault("auto_id", "filter-%s")
        super().__init__(*args, **kwargs)
        self.currency = currency
        for name in self.AMOUNTS:
            self.fields[name].currency = currency
        self.fields["country"].choices = [("", _("Any country"))] + list(
            country_choices(babel_locale())
        )
        self.fields["tag"].choices = list(tags)
        self.fields["product"].choices = list(products)

    @classmethod
    def for_spec(cls, spec: SegmentFilter, **kwargs) -> CustomerFilterForm:
        """Return the form showing ``spec`` (unbound: nothing to validate)."""
        currency = kwargs["currency"]
        return cls(initial=_initial(spec, currency), **kwargs)

    def clean(self):
        data = super().clean()
        for low, high in (("clv_min", "clv_max"), ("paid_min", "paid_max")):
            if data.get(low) is not None and data.get(high) is not None and data[high] < data[low]:
                self.add_error(high, _("Enter an amount at least as large as the first one."))
        return data

    def spec(self) -> SegmentFilter:
        """Return the filter the valid fields describe; a field with an error is left out."""
        if not self.is_bound:
            return SegmentFilter()
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return SegmentFilter(
            query=(data.get("q") or "").strip(),
            stages=tuple(data.get("stage") or ()),
            segments=tuple(data.get("segment") or ()),
            clv_min=data.get("clv_min"),
            clv_max=data.get("clv_max"),
            paid_min=data.get("paid_min"),
            paid_max=data.get("paid_max"),
            countries=(data["country"],) if data.get("country") else (),
            consent=_yes_no(data.get("consent", "")),
            tags=tuple(data.get("tag") or ()),
            products=tuple(data.get("product") or ()),
            purchased=_yes_no(data.get("purchased", "")),
        )

    def country_options(self) -> SafeString:
        """Return the country filter's options with the current choice selected."""
        value = self["country"].value()
        return country_options(value if isinstance(value, str) else "")

    def summary(self, spec: SegmentFilter) -> list[str]:
        """Return the criteria of ``spec`` in words, one item per criterion."""
        return filter_summary(
            spec,
            currency=self.currency,
            tags=dict(self.fields["tag"].choices),
            products=dict(self.fields["product"].choices),
        )


def _major(amount: int | None, currency: str) -> str:
    return "" if amount is None else str(Money(amount, currency).to_decimal())


def _yes_no_text(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


def _initial(spec: SegmentFilter, currency: str) -> dict:
    return {
        "q": spec.query,
        "stage": list(spec.stages),
        "segment": list(spec.segments),
        "clv_min": _major(spec.clv_min, currency),
        "clv_max": _major(spec.clv_max, currency),
        "paid_min": _major(spec.paid_min, currency),
        "paid_max": _major(spec.paid_max, currency),
        "country": spec.countries[0] if spec.countries else "",
        "consent": _yes_no_text(spec.consent),
        "purchased": _yes_no_text(spec.purchased),
        "tag": list(spec.tags),
        "product": list(spec.products),
    }


def filter_params(spec: SegmentFilter, currency: str) -> list[tuple[str, str]]:
    """Return ``spec`` as the list's query parameters (what the filter form would send)."""
    params: list[tuple[str, str]] = [(FILTERED, "1")]
    for name, value in _initial(spec, currency).items():
        values = value if isinstance(value, list) else [value]
        params += [(name, str(item)) for item in values if item not in ("", None)]
    return params


def filter_summary(
    spec: SegmentFilter, *, currency: str, tags: dict[int, str], products: dict[int, str]
) -> list[str]:
    """Return the criteria of ``spec`` in words, e.g. ["Stage: Relationship", ...]."""
    stages, segments = dict(Stage.choices), dict(Segment.choices)
    parts: list[str] = []
    if spec.query:
        parts.append(_("Search: “%(text)s”") % {"text": spec.query})
    if spec.stages:
        names = ", ".join(str(stages[s]) for s in spec.stages)
        parts.append(_("Stage: %(names)s") % {"names": names})
    if spec.segments:
        names = ", ".join(str(segments[s]) for s in spec.segments)
        parts.append(_("Segment: %(names)s") % {"names": names})
    for label, low, high in (
        (_("Lifetime value"), spec.clv_min, spec.clv_max),
        (_("Total paid"), spec.paid_min, spec.paid_max),
    ):
        if low is not None or high is not None:
            parts.append(f"{label}: {_range_text(low, high, currency)}")
    if spec.countries:
        names = ", ".join(country_label(code) for code in spec.countries)
        parts.append(_("Country: %(names)s") % {"names": names})
    if spec.consent is not None:
        parts.append(_("Agreed to marketing e-mail") if spec.consent else _("No marketing e-mail"))
    if spec.purchased is not None:
        parts.append(_("Has bought") if spec.purchased else _("Has not bought"))
    if spec.tags:
        names = ", ".join(tags.get(pk, "?") for pk in spec.tags)
        parts.append(_("Tags: %(names)s") % {"names": names})
    if spec.products:
        names = ", ".join(products.get(pk, "?") for pk in spec.products)
        parts.append(_("Bought: %(names)s") % {"names": names})
    return parts


def _range_text(low: int | None, high: int | None, currency: str) -> str:
    if high is None:
        return _("at least %(amount)s") % {"amount": format_money(low, currency)}
    if low is None:
        return _("at most %(amount)s") % {"amount": format_money(high, currency)}
    return f"{format_money(low, currency)} – {format_money(high, currency)}"


class SegmentNameForm(forms.Form):
    name = forms.CharField(
        label=_("Segment name"),
        max_length=100,
        error_messages={"required": _("Give the segment a name.")},
    )


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Note"),
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Write a note first.")},
    )


class TagForm(forms.Form):
    name = forms.CharField(
        label=_("Tag"),
        max_length=TAG_MAX_LENGTH,
        error_messages={"required": _("Enter a tag.")},
        widget=forms.TextInput(
            attrs={"list": "shop-tags", "autocomplete": "off", "placeholder": _("New tag")}
        ),
    )


class TagRemoveForm(forms.Form):
    tag_id = forms.IntegerField(min_value=1, max_value=2**63 - 1)


class DateForm(forms.Form):
    kind = forms.ChoiceField(label=_("Occasion"), choices=CustomerDate.Kind.choices)
    label = forms.CharField(
        label=_("Label"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. their daughter")}),
    )
    month = forms.TypedChoiceField(
        label=_("Month"), coerce=int, choices=[("", "—")] + list(MONTHS.items())
    )
    day = forms.IntegerField(label=_("Day"), min_value=1, max_value=31)
    year = forms.IntegerField(
        label=_("Year"),
        min_value=1,
        max_value=9999,
        required=False,
        widget=forms.NumberInput(attrs={"placeholder": _("if known")}),
    )


class DateRemoveForm(forms.Form):
    date_id = forms.IntegerField(min_value=1, max_value=2**63 - 1)
