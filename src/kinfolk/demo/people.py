"""Made-up fans for the demo: names (Korean and English), e-mail addresses, countries and postal
addresses that pass each country's validation rules.

Every address uses a reserved example domain, so no message can ever reach a real person.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from kinfolk.core.addresses import address_normalize

# (Hangul, romanised) family and given names; the romanisation makes the e-mail address.
KOREAN_FAMILY = [
    ("김", "kim"),
    ("이", "lee"),
    ("박", "park"),
    ("최", "choi"),
    ("정", "jung"),
    ("강", "kang"),
    ("조", "cho"),
    ("윤", "yoon"),
    ("장", "jang"),
    ("임", "lim"),
    ("한", "han"),
    ("오", "oh"),
    ("서", "seo"),
    ("신", "shin"),
    ("권", "kwon"),
    ("황", "hwang"),
    ("송", "song"),
    ("류", "ryu"),
]
KOREAN_GIVEN = [
    ("민준", "minjun"),
    ("서연", "seoyeon"),
    ("지우", "jiwoo"),
    ("하은", "haeun"),
    ("도윤", "doyun"),
    ("서준", "seojun"),
    ("지호", "jiho"),
    ("수아", "sua"),
    ("예준", "yejun"),
    ("지민", "jimin"),
    ("하준", "hajun"),
    ("채원", "chaewon"),
    ("시우", "siwoo"),
    ("유나", "yuna"),
    ("은우", "eunwoo"),
    ("다인", "dain"),
    ("건우", "geonwoo"),
    ("소율", "soyul"),
    ("현우", "hyunwoo"),
    ("예린", "yerin"),
    ("태민", "taemin"),
    ("나연", "nayeon"),
    ("준서", "junseo"),
    ("하린", "harin"),
]
ENGLISH_GIVEN = [
    "Olivia",
    "Liam",
    "Emma",
    "Noah",
    "Ava",
    "Elijah",
    "Sophia",
    "James",
    "Mia",
    "Lucas",
    "Amelia",
    "Mason",
    "Harper",
    "Ethan",
    "Ella",
    "Leo",
    "Chloe",
    "Jack",
    "Grace",
    "Owen",
    "Zoe",
    "Caleb",
    "Nora",
    "Isaac",
    "Riley",
    "Maya",
    "Sam",
    "Alex",
    "Jordan",
    "Quinn",
]
ENGLISH_FAMILY = [
    "Smith",
    "Johnson",
    "Brown",
    "Garcia",
    "Miller",
    "Davis",
    "Martinez",
    "Wilson",
    "Anderson",
    "Taylor",
    "Thomas",
    "Moore",
    "Jackson",
    "Martin",
    "Thompson",
    "White",
    "Lopez",
    "Clark",
    "Lewis",
    "Walker",
    "Hall",
    "Young",
    "King",
    "Wright",
    "Scott",
    "Green",
    "Baker",
    "Nguyen",
    "Hill",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Murphy",
    "Cooper",
]
EMAIL_DOMAINS = ["example.com", "example.net", "example.org"]

# Where each shop's fans live; weights need not add up to one.
COUNTRY_WEIGHTS = {
    "KR": {
        "KR": 50,
        "JP": 12,
        "US": 12,
        "TW": 5,
        "GB": 4,
        "DE": 4,
        "CA": 3,
        "AU": 3,
        "FR": 3,
        "PH": 2,
        "SG": 2,
    },
    "US": {
        "US": 55,
        "CA": 10,
        "GB": 7,
        "DE": 6,
        "AU": 5,
        "MX": 4,
        "JP": 3,
        "KR": 3,
        "FR": 3,
        "NL": 2,
        "SE": 2,
    },
}

# One real-looking delivery point per country; street numbers vary per fan.
ADDRESS_TEMPLATES = {
    "KR": {
        "street_address": "{n} Teheran-ro",
        "city": "Gangnam-gu",
        "country_area": "Seoul",
        "postal_code": "06236",
    },
    "JP": {
        "street_address": "{n}-3 Jingumae",
        "city": "Shibuya-ku",
        "country_area": "Tokyo",
        "postal_code": "150-0001",
    },
    "US": {
        "street_address": "{n} Valencia Street",
        "city": "San Francisco",
        "country_area": "CA",
        "postal_code": "94110",
    },
    "TW": {
        "street_address": "No. {n}, Section 1, Zhongxiao East Road",
        "city": "Zhongzheng District",
        "country_area": "Taipei City",
        "postal_code": "100",
    },
    "GB": {"street_address": "{n} Camden High Street", "city": "London", "postal_code": "NW1 7JE"},
    "DE": {"street_address": "Oranienstraße {n}", "city": "Berlin", "postal_code": "10997"},
    "CA": {
        "street_address": "{n} Queen Street West",
        "city": "Toronto",
        "country_area": "ON",
        "postal_code": "M5H 2N2",
    },
    "AU": {
        "street_address": "{n} King Street",
        "city": "Newtown",
        "country_area": "NSW",
        "postal_code": "2042",
    },
    "FR": {"street_address": "{n} rue Oberkampf", "city": "Paris", "postal_code": "75011"},
    "PH": {
        "street_address": "{n} Ayala Avenue",
        "city": "Makati",
        "country_area": "Metro Manila",
        "postal_code": "1226",
    },
    "SG": {"street_address": "{n} Orchard Road", "city": "Singapore", "postal_code": "238879"},
    "MX": {
        "street_address": "Avenida Álvaro Obregón {n}",
        "city": "Ciudad de México",
        "country_area": "CDMX",
        "postal_code": "06700",
    },
    "NL": {"street_address": "Prinsengracht {n}", "city": "Amsterdam", "postal_code": "1015 DX"},
    "SE": {"street_address": "Götgatan {n}", "city": "Stockholm", "postal_code": "118 46"},
}


@dataclass(frozen=True)
class Person:
    """A made-up fan: display name, address, country and the language they shop in."""

    name: str
    email: str
    country: str
    language: str
    street_number: int

    def address(self) -> dict[str, str]:
        """Return this fan's postal address, normalised for the country."""
        address = dict(normalized_template(self.country))
        address["name"] = self.name
        address["street_address"] = (
            address["street_address"]
            .replace("{N}", str(self.street_number))
            .replace("{n}", str(self.street_number))
        )
        return address


@cache
def normalized_template(country: str) -> dict[str, str]:
    """Return the country's template address as ``address_normalize`` leaves it."""
    raw = {**ADDRESS_TEMPLATES[country], "name": "Fan", "country_code": country}
    return address_normalize(raw)


def country_choices(home: str) -> tuple[list[str], np.ndarray]:
    """Return the countries a shop based in ``home`` sells to and their probabilities."""
    weights = COUNTRY_WEIGHTS[home]
    countries = list(weights)
    values = np.array([weights[c] for c in countries], dtype=float)
    return countries, values / values.sum()


def make_person(rng: np.random.Generator, *, index: int, country: str) -> Person:
    """Return fan number ``index`` living in ``country``: Korean names in Korea (and for a few
    fans abroad), English names elsewhere."""
    korean = country == "KR" or rng.random() < 0.08
    domain = EMAIL_DOMAINS[int(rng.integers(len(EMAIL_DOMAINS)))]
    if korean:
        family, family_latin = KOREAN_FAMILY[int(rng.integers(len(KOREAN_FAMILY)))]
        given, given_latin = KOREAN_GIVEN[int(rng.integers(len(KOREAN_GIVEN)))]
        name = (
            f"{family}{given}"
            if country == "KR"
            else f"{given_latin.title()} {family_latin.title()}"
        )
        local = f"{given_latin}.{family_latin}{index}"
    else:
        given = ENGLISH_GIVEN[int(rng.integers(len(ENGLISH_GIVEN)))]
        family = ENGLISH_FAMILY[int(rng.integers(len(ENGLISH_FAMILY)))]
        name = f"{given} {family}"
        local = f"{given.lower()}.{family.lower()}{index}"
    return Person(
        name=name,
        email=f"{local}@{domain}",
        country=country,
        language="ko" if country == "KR" else "en",
        street_number=int(rng.integers(1, 400)),
    )
