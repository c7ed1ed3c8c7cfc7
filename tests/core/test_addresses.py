"""Addresses are validated per country; every wrong field gets a message the fan can act on."""

import pytest

from kinfolk.core.addresses import address_format, address_normalize, field_labels
from kinfolk.core.errors import InvalidInput


def _errors(address: dict) -> dict[str, str]:
    with pytest.raises(InvalidInput) as info:
        address_normalize(address)
    assert info.value.field in info.value.errors
    assert info.value.message == info.value.errors[info.value.field]
    return info.value.errors


@pytest.fixture
def us_address():
    return {
        "name": "Jamie Doe",
        "street_address": "1600 Amphitheatre Pkwy",
        "city": "Mountain View",
        "country_area": "CA",
        "postal_code": "94043",
        "country_code": "us",
    }


def test_a_korean_address_is_accepted_and_kept(kr_address):
    clean = address_normalize(kr_address)
    assert clean["country_code"] == "KR"
    assert clean["postal_code"] == "04524"
    assert clean["name"] == "김민지"
    assert clean["street_address"] == "세종대로 110"


def test_a_us_address_is_normalised(us_address):
    clean = address_normalize({**us_address, "street_address": "  1600 Amphitheatre Pkwy  "})
    assert clean["country_code"] == "US"
    assert clean["city"] == "MOUNTAIN VIEW"
    assert clean["street_address"] == "1600 Amphitheatre Pkwy"
    assert set(clean) >= {"name", "street_address", "city", "country_area", "postal_code"}


@pytest.mark.parametrize(
    ("country", "bad_postal_code", "example"),
    [("KR", "4524", "03051"), ("US", "9404", "95014")],
)
def test_a_wrong_postal_code_names_the_field_and_shows_an_example(
    kr_address, us_address, country, bad_postal_code, example
):
    address = {"KR": kr_address, "US": us_address}[country]
    errors = _errors({**address, "postal_code": bad_postal_code})
    assert set(errors) == {"postal_code"}
    assert example in errors["postal_code"]


def test_every_missing_field_is_reported_at_once():
    errors = _errors({"country_code": "US"})
    assert {"name", "street_address", "city", "country_area", "postal_code"} <= set(errors)
    assert errors["street_address"] == "This field is required."
    assert errors["name"] == "Enter the name of the person receiving the parcel."


def test_a_missing_country_asks_for_one(kr_address):
    errors = _errors({**kr_address, "country_code": ""})
    assert errors == {"country_code": "Choose a country."}


@pytest.mark.parametrize("code", ["XX", "ZZ", "Q"])
def test_an_unknown_country_is_a_field_error_not_a_crash(kr_address, code):
    errors = _errors({**kr_address, "country_code": code})
    assert set(errors) == {"country_code"}


def test_labels_follow_the_country():
    assert field_labels("US")["postal_code"] == "ZIP code"
    assert field_labels("US")["country_area"] == "State"
    assert field_labels("KR")["postal_code"] == "Postal code"
    assert field_labels("XX") == {
        "country_area": "Region",
        "city": "City",
        "postal_code": "Postal code",
    }


def test_formatting_puts_the_lines_in_the_country_s_order(us_address):
    text = address_format(address_normalize(us_address))
    lines = text.splitlines()
    assert lines[0] == "Jamie Doe"
    assert "1600 Amphitheatre Pkwy" in lines
    assert "MOUNTAIN VIEW, CA 94043" in text
