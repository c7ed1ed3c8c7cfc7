"""A person's rights over what a shop keeps about them: a copy of all of it, and its erasure.

Both act on one customer record of one shop (a fan has one record per shop; another shop's
records are untouched), on the CRM's own rows here and on every other app's rows through the
handlers registered in ``kinfolk.crm.personal_data``.

What an erasure removes and what it keeps, and why:

- The customer record: e-mail address and name blanked, the account unlinked, marketing consent
  off, ``erased_at`` set. The row itself stays so that the shop's order totals keep adding up.
  The country stays: on its own it identifies nobody, and the shop's tax books count sales per
  country. The stage and the RFM and value scores stay: they are figures about anonymous rows.
- Tags and important dates (birthdays) are deleted.
- The timeline keeps each event's kind, time, source and the figures the books need (totals,
  currency, items bought, order numbers); every other detail is dropped (the text of staff notes,
  reasons typed on a cancellation, anything another app wrote), and any value still naming the
  person is blanked.
- Consent records stay as the proof of what was agreed and withdrawn, and when (many regimes
  require keeping it), without the IP address and the wording shown.
- Records of earlier merges keep their dates and counts without the merged address and name.
- Import reports of the shop: a rejected line's text that mentions the person's e-mail address
  is blanked (its line number stays).
- Other apps' rows: each app's eraser (the orders app blanks e-mail, names, addresses and phone
  numbers on the person's orders and keeps numbers, lines, totals, currency, dates and status).
- The person's Kinfolk account is not deleted: it belongs to the platform and to the other shops
  the person buys from.
- What stays of the person's e-mail addresses is their one-way digests (``ErasedAddress``, made
  by ``erased_address_digest``), one for every address the person was known by in the shop: the
  record's own, its account's (which may differ), and those of the records merged into it
  (``personal_data.addresses_of``). An import of old history (a Shopify or Bandcamp export from
  before the erasure) that meets any of them again leaves those lines out instead of bringing
  the person back. A fan who signs up or buys again through the shop itself starts a new record:
  that is a new relationship, not old history.
- Older erasures recognise less, and nothing can be done about it, as the addresses are gone:
  one made before migration 0009 kept no digest at all, so an import of old history brings that
  person back; one made before migration 0012 kept the digest of the record's own address only,
  so their lines under a merged record's or their account's other address come back. Erasing
  such a returned record again (it is a new record) is the remedy.

Erasing an erased customer changes nothing and says so (Conflict).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from kinfolk.accounts.models import normalize_email
from kinfolk.core import clock
from kinfolk.core.errors import Conflict, InvalidInput
from kinfolk.crm import personal_data
from kinfolk.crm.models import (
    ConsentRecord,
    Customer,
    CustomerDate,
    CustomerMerge,
    CustomerScore,
    ErasedAddress,
    Erasure,
    ImportRun,
    Interaction,
    StageChange,
)
from kinfolk.shops.models import Shop

EXPORT_FORMAT = "kinfolk.personal-data/1"
# Keys of an interaction's data that the shop's books need and that name nobody.
KEPT_DATA_KEYS = frozenset(
    {
        "total",
        "subtotal",
        "shipping",
        "amount",
        "currency",
        "items",
        "quantity",
        "from",
        "to",
        "rule",
        "interaction_ids",
        "status",
        "number",
        "carrier",
        "automatic",
        # An imported order's refunds: how much went back, and whether all of it did.
        "refunded",
        "full",
    }
)
# Subjects whose id is an account or a person rather than a document of the shop.
PERSONAL_SUBJECTS = frozenset({"account", "customer", "user"})
# Fixed forever: every stored digest was made with it (see ``erased_address_digest``).
ERASED_ADDRESS_LABEL = "kinfolk.crm.erased-address.v1"


def erased_address_digest(*, shop_id: int, email: str) -> str:
    """Return the 64-character digest by which a shop recognises an erased address.

    SHA-256 over a fixed label, the shop's id and the address normalised (trimmed, lower-case),
    so that every spelling of the address gives the same digest. The shop's id salts it: the
    same person erased from two shops has two unrelated digests, which cannot be matched across
    shops. The site's ``SECRET_KEY`` is deliberately not part of it: a secret key may be rotated
    (after a leak, or as routine), and a digest keyed with the old one would never match again,
    bringing every erased person back with the next import. The price is that whoever holds the
    database and already knows an address can confirm that it was erased from a shop; the
    digest does not reveal an address nobody supplies.
    """
    text = "\x1f".join((ERASED_ADDRESS_LABEL, str(shop_id), normalize_email(email)))
    return hashlib.sha256(text.encode()).hexdigest()


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


@transaction.atomic
def customer_data_export(*, shop: Shop, customer: Customer) -> dict[str, Any]:
    """Return everything the shop holds about the customer, as values JSON can hold.

    The CRM's parts under fixed keys (``profile``, ``timeline``, ...), each registered app's under
    its name (``orders``, ...). Nothing of another customer or another shop.
    """
    _check_shop(shop, customer)
    data: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "exported_at": _iso(clock.now()),
        "shop": {"name": shop.name, "slug": shop.slug},
        "profile": _profile(customer),
        "tags": sorted(customer.tags.values_list("name", flat=True)),
        "dates": [
            {"kind": d.kind, "label": d.label, "month": d.month, "day": d.day, "year": d.year}
            for d in CustomerDate.objects.filter(shop=shop, customer=customer)
        ],
        "consent_records": [
            {
                "topic": r.topic,
                "granted": r.granted,
                "recorded_at": _iso(r.recorded_at),
                "source": r.source,
                "ip_address": r.ip_address,
                "wording": r.wording,
            }
            for r in ConsentRecord.objects.filter(shop=shop, customer=customer)
        ],
        "timeline": [
            {
                "kind": i.kind,
                "occurred_at": _iso(i.occurred_at),
                "source": i.source,
                "subject_type": i.subject_type,
                "subject_id": i.subject_id,
                "data": i.data,
            }
            for i in Interaction.objects.filter(shop=shop, customer=customer).order_by(
                "occurred_at", "id"
            )
        ],
        "stage_changes": [
            {
                "from": c.from_stage,
                "to": c.to_stage,
                "changed_at": _iso(c.changed_at),
                "rule": c.rule,
                "evidence": c.evidence,
            }
            for c in StageChange.objects.filter(shop=shop, customer=customer)
        ],
        "scores": _scores(customer),
        "merges": [
            {
                "merged_at": _iso(m.merged_at),
                "merged_email": m.merged_email,
                "merged_name": m.merged_name,
                "automatic": m.automatic,
                "moved": m.moved,
            }
            for m in CustomerMerge.objects.filter(shop=shop, kept=customer)
        ],
        "erasures": [
            {
                "requested_at": _iso(e.requested_at),
                "requested_by": e.requested_by,
                "completed_at": _iso(e.completed_at),
                "summary": e.summary,
            }
            for e in Erasure.objects.filter(shop=shop, customer=customer)
        ],
    }
    for handler in personal_data.handlers():
        data[handler.name] = handler.export(shop, customer)
    return data


def _check_shop(shop: Shop, customer: Customer) -> None:
    if customer.shop_id != shop.pk:
        raise InvalidInput(_("This customer belongs to another shop."))


def _profile(customer: Customer) -> dict[str, Any]:
    return {
        "email": customer.email,
        "name": customer.name,
        "country": customer.country,
        "customer_since": _iso(customer.created_at),
        "has_account": customer.account_id is not None,
        "stage": customer.stage,
        "stage_since": _iso(customer.stage_changed_at),
        "email_marketing": customer.email_marketing,
        "erased_at": _iso(customer.erased_at),
    }


def _scores(customer: Customer) -> dict[str, Any] | None:
    score = CustomerScore.objects.filter(customer=customer).first()
    if score is None:
        return None
    return {
        "last_purchase_at": _iso(score.last_purchase_at),
        "paid_orders": score.frequency,
        "total_paid": score.monetary,
        "rfm": score.rfm,
        "segment": score.segment,
        "scored_at": _iso(score.scored_at),
        "probability_alive": score.p_alive,
        "expected_purchases_365d": score.purchases_365d,
        "lifetime_value": score.clv,
    }


@transaction.atomic
def customer_erase(*, shop: Shop, customer: Customer, requested_by: str) -> Erasure:
    """Erase the customer's personal data in this shop (see the module's notes) and return the
    record of it, whose ``summary`` counts the rows changed per kind and whose ``addresses``
    (``ErasedAddress``) recognise each of the person's addresses when an import of old history
    meets it again.

    Raises Conflict when the customer was already erased (nothing changes).
    """
    _check_shop(shop, customer)
    if requested_by not in Erasure.RequestedBy.values:
        raise InvalidInput(f"Unknown requester {requested_by!r}.")
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.erased_at is not None:
        raise Conflict(
            _("This customer's personal data was already erased on %(date)s.")
            % {"date": customer.erased_at.date().isoformat()},
            code="already_erased",
        )
    now = clock.now()
    identifiers = personal_data.identifiers_of(customer)
    # Taken before the record and its merges are blanked and its account unlinked: what
    # recognises the person in later imports.
    addresses = personal_data.addresses_of(customer)
    summary: dict[str, int] = {}
    # Other apps first: their erasers look for the address and name the record still carries.
    for handler in personal_data.handlers():
        summary[handler.name] = handler.erase(shop, customer)
    summary.update(_erase_crm_rows(shop=shop, customer=customer, identifiers=identifiers))
    customer.email = ""
    customer.name = ""
    customer.account = None
    customer.email_marketing = False
    customer.erased_at = now
    customer.save(update_fields=["email", "name", "account", "email_marketing", "erased_at"])
    summary["customer"] = 1
    erasure = Erasure.objects.create(
        shop=shop,
        customer=customer,
        requested_at=now,
        requested_by=requested_by,
        completed_at=now,
        summary=summary,
    )
    _keep_erased_addresses(shop=shop, erasure=erasure, addresses=addresses)
    return erasure


def _keep_erased_addresses(*, shop: Shop, erasure: Erasure, addresses: list[str]) -> None:
    """Keep the digest of each address; one the shop already keeps (erased before, by a fan
    who came back and asked again) stays with its first erasure."""
    ErasedAddress.objects.bulk_create(
        [
            ErasedAddress(
                shop=shop,
                erasure=erasure,
                digest=erased_address_digest(shop_id=shop.pk, email=address),
            )
            for address in addresses
        ],
        ignore_conflicts=True,
    )


def _erase_crm_rows(*, shop: Shop, customer: Customer, identifiers: list[str]) -> dict[str, int]:
    summary = {
        "interactions": _erase_interactions(shop=shop, customer=customer, identifiers=identifiers),
        "dates": CustomerDate.objects.filter(shop=shop, customer=customer).delete()[0],
        "tags": customer.tags.count(),
        "consent_records": ConsentRecord.objects.filter(shop=shop, customer=customer).update(
            ip_address=None, wording=""
        ),
        "merges": CustomerMerge.objects.filter(shop=shop, kept=customer).update(
            merged_email="", merged_name=""
        ),
        "import_reports": _erase_import_reports(shop=shop, identifiers=identifiers),
    }
    customer.tags.clear()
    return summary


def _erase_interactions(*, shop: Shop, customer: Customer, identifiers: list[str]) -> int:
    """Keep each event's kind, time and book-keeping figures; drop everything else."""
    changed = []
    for interaction in Interaction.objects.filter(shop=shop, customer=customer).iterator():
        data = {k: v for k, v in interaction.data.items() if k in KEPT_DATA_KEYS}
        data = personal_data.scrub(data, identifiers)
        subject_id = interaction.subject_id
        if (
            interaction.subject_type in PERSONAL_SUBJECTS
            or personal_data.scrub(subject_id, identifiers) == ""
        ):
            # Unique among imported events (interaction_unique_import), and naming no one.
            subject_id = f"erased-{interaction.pk}" if subject_id else ""
        if data != interaction.data or subject_id != interaction.subject_id:
            interaction.data, interaction.subject_id = data, subject_id
            changed.append(interaction)
    Interaction.objects.bulk_update(changed, ["data", "subject_id"], batch_size=500)
    return len(changed)


def _erase_import_reports(*, shop: Shop, identifiers: list[str]) -> int:
    """Blank mentions of the person in the shop's import reports (rejected lines, errors).

    These rows are about every customer of the shop, so only the person's e-mail addresses are
    looked for: a short name would blank other people's lines too.
    """
    identifiers = [identifier for identifier in identifiers if "@" in identifier]
    if not identifiers:
        return 0
    changed = 0
    for run in ImportRun.objects.filter(shop=shop).only("pk", "rejected", "error", "mapping"):
        rejected, error = (
            personal_data.scrub(run.rejected, identifiers),
            personal_data.scrub(run.error, identifiers),
        )
        if rejected != run.rejected or error != run.error:
            ImportRun.objects.filter(pk=run.pk).update(rejected=rejected, error=error)
            changed += 1
    return changed


def customers_of_account(*, account) -> QuerySet[Customer]:
    """Return the records linked to the account that were not erased, one per shop, shops
    loaded, by shop name: what a fan can download or ask to erase. A read, kept beside the
    requests it serves."""
    return (
        Customer.objects.filter(account=account, erased_at__isnull=True)
        .select_related("shop")
        .order_by("shop__name", "pk")
    )
