"""Where other apps tell the CRM how to export, erase and merge the personal data they hold.

A shop's knowledge of a person is spread over many apps: the CRM keeps the customer record and
the timeline, the orders app keeps e-mail and shipping addresses on every order, and later apps
(releases, referrals, community) keep downloads, share links and posts. The CRM must act on all of
them when a fan asks for their data, asks to be forgotten, or turns out to be recorded twice; yet
dependencies point one way (orders → crm, never crm → orders), so the CRM cannot import them.

The answer is the one WordPress gives its plugins for the same problem: core defines the personal
data requests and their pages, and every plugin that stores personal data adds an *exporter* and
an *eraser* callback to the ``wp_privacy_personal_data_exporters`` and
``wp_privacy_personal_data_erasers`` filters, keyed by a slug, each called with the person's
e-mail address and returning what it found or how many items it removed. Core walks the
registered callbacks and never learns where the data lives. Here:

- an app calls ``register(name, export=..., erase=..., merge=...)`` once, from its
  ``AppConfig.ready()`` (a second registration under the same name replaces the first, so a
  ``ready()`` that runs twice is harmless);
- ``export(shop, customer)`` returns what the app holds about that customer in that shop, made of
  values JSON can hold (datetimes as ISO 8601 text); it appears in the export under ``name``;
- ``erase(shop, customer)`` removes the personal data of those rows, keeping what the shop's books
  need, and returns how many rows it changed; it is called before the CRM blanks the customer
  record, so the customer still carries the e-mail address and name to look for;
- ``merge(shop, source, target)`` moves the app's rows of ``source`` to ``target`` and returns
  how many it moved (WordPress has no merge; a CRM needs one when a person appears twice).

Erasers find the person's traces in free text and JSON with ``identifiers_of(customer)`` and
``scrub(value, identifiers)``, which blanks every text that contains one of them;
``addresses_of(customer)`` gives the e-mail addresses alone (the erasure keeps their digests).

Unlike WordPress the callbacks are not paged: one person's rows in one shop are few, and every
callback runs inside the one transaction of the export, erasure or merge, so that either all apps
changed or none did. The CRM's own rows (interactions, stage changes, scores, dates, tags, consent
records, merges) are handled by ``kinfolk.crm.services.privacy`` and ``.merges`` themselves.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kinfolk.accounts.models import normalize_email
from kinfolk.crm.models import Customer, CustomerMerge, Interaction

if TYPE_CHECKING:
    from kinfolk.shops.models import Shop

Exporter = Callable[["Shop", Customer], "dict[str, Any] | list[Any]"]
Eraser = Callable[["Shop", Customer], int]
Merger = Callable[["Shop", Customer, Customer], int]

# Names the CRM's own part of an export already uses; an app cannot take them.
RESERVED_NAMES = frozenset(
    {
        "format",
        "exported_at",
        "shop",
        "profile",
        "tags",
        "dates",
        "consent_records",
        "timeline",
        "stage_changes",
        "scores",
        "merges",
        "erasures",
    }
)


@dataclass(frozen=True)
class PersonalDataHandler:
    """One app's three callbacks for the personal data it holds."""

    name: str
    export: Exporter
    erase: Eraser
    merge: Merger


_handlers: dict[str, PersonalDataHandler] = {}


def register(name: str, *, export: Exporter, erase: Eraser, merge: Merger) -> None:
    """Register an app's callbacks under ``name`` (its key in the export, e.g. ``"orders"``)."""
    if not name or name in RESERVED_NAMES:
        raise ValueError(f"{name!r} cannot name personal data handlers.")
    _handlers[name] = PersonalDataHandler(name=name, export=export, erase=erase, merge=merge)


def handlers() -> list[PersonalDataHandler]:
    """Return the registered handlers in the order they were first registered."""
    return list(_handlers.values())


# Shorter values are not searched for: a two-letter name would blank half the data.
MIN_IDENTIFIER_LENGTH = 3


def _known_by(customer: Customer) -> tuple[set[str], set[str]]:
    """Return the person's e-mail addresses and names as stored: the record's own, its
    account's, those of the records merged into it (merges move to the record kept, so a
    record merged into one that was merged later counts too), and the addresses the record had
    before it followed its account's address."""
    emails, names = {customer.email}, {customer.name}
    if customer.account_id:
        emails.add(customer.account.email)
        names.add(customer.account.name)
    for email, name in CustomerMerge.objects.filter(kept=customer).values_list(
        "merged_email", "merged_name"
    ):
        emails.add(email)
        names.add(name)
    emails.update(_previous_addresses(customer))
    return emails, names


# The note ``merges.customers_follow_account_email`` leaves when a record takes its account's
# new address; notes written before it kept the old address apart have it in their text only.
_ADDRESS_CHANGE = re.compile(r"^E-mail address changed from (\S+@\S+) to ")


def _previous_addresses(customer: Customer) -> set[str]:
    """Return the addresses the record had before it followed its account's changes."""
    notes = Interaction.objects.filter(
        shop_id=customer.shop_id,
        customer=customer,
        kind=Interaction.Kind.NOTE,
        source=Interaction.Source.SYSTEM,
        subject_type="account",
    ).values_list("data", flat=True)
    found = set()
    for data in notes:
        if not isinstance(data, dict):
            continue
        previous = data.get("previous_email")
        if not previous:
            match = _ADDRESS_CHANGE.match(str(data.get("text", "")))
            previous = match.group(1) if match else ""
        if previous:
            found.add(str(previous))
    return found


def identifiers_of(customer: Customer) -> list[str]:
    """Return the texts that name the person, trimmed and lower-cased, sorted: the record's
    address and name, its account's, and those of the records merged into it."""
    emails, names = _known_by(customer)
    return sorted(
        {v.strip().lower() for v in emails | names if v and len(v.strip()) >= MIN_IDENTIFIER_LENGTH}
    )


def addresses_of(customer: Customer) -> list[str]:
    """Return the e-mail addresses the person is known by in the record's shop, normalised
    (``accounts.models.normalize_email``) and sorted: the record's own, its account's (which
    may differ), those of the records merged into it, and those it had before following its
    account's changes of address."""
    emails, _names = _known_by(customer)
    return sorted({normalize_email(email) for email in emails if email and email.strip()})


def scrub(value: Any, identifiers: list[str]) -> Any:
    """Return ``value`` (text, or lists and dicts of them) with every text that contains one of
    the ``identifiers`` blanked; other values unchanged."""
    if isinstance(value, str):
        lowered = value.lower()
        return "" if any(identifier in lowered for identifier in identifiers) else value
    if isinstance(value, list):
        return [scrub(item, identifiers) for item in value]
    if isinstance(value, dict):
        return {key: scrub(item, identifiers) for key, item in value.items()}
    return value
