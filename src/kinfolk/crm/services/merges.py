"""Merging two records of one person in a shop: by hand from the dashboard, or automatically
when a record takes an address another record of the shop already has.

Where "the same e-mail twice" can happen, and where it cannot:

- ``Customer.email`` is written when a record is created (``customer_get_or_create``: the address
  normalised, looked up case-insensitively, and backed by the unique constraint
  ``customer_unique_shop_email`` on the lower-cased address, so two first contacts at once end with
  one record), blanked by an erasure (a blank address is outside the constraint), and filled by a
  merge from the merged record. No service edits it otherwise, and the admin validates the
  constraint before saving, so two records of one shop never hold the same address at once.
- An account's address can change (the operators' admin edits it). The records linked to the
  account keep the old address, and the new one may already belong to another record of the
  shop, e.g. a guest order placed with it. That is the one case of "the same e-mail twice":
  ``customers_follow_account_email`` gives each linked record the account's current address and
  first merges the record that holds it (``automatic=True``). It runs whenever an account meets a
  shop's records: a logged-in checkout (``customer_get_or_create``) and the confirmation of an
  account (``customers_link_account``).

Everything of the merged record moves to the kept one, or the merge does not happen: the CRM's
rows here, the other apps' rows through ``kinfolk.crm.personal_data``, and a final check that no
row of any app still points at the merged record (an app that forgot to register its merge would
otherwise lose its rows to the cascade).
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from kinfolk.accounts.models import User, normalize_email
from kinfolk.core import clock
from kinfolk.core.errors import Conflict, InvalidInput, KinfolkError
from kinfolk.crm import personal_data
from kinfolk.crm.models import (
    ConsentRecord,
    Customer,
    CustomerDate,
    CustomerMerge,
    CustomerScore,
    Interaction,
    StageChange,
)
from kinfolk.crm.services.stages import stage_update_for
from kinfolk.shops.models import Shop

logger = logging.getLogger(__name__)

CANDIDATES_LIMIT = 20
# Rows of the merged customer that the merge removes on purpose rather than moving: its RFM and
# value scores are derived from the timeline, which moves, and are rebuilt by the nightly batch.
DROPPED_RELATIONS = frozenset({CustomerScore})


@transaction.atomic
def customer_merge(
    *,
    shop: Shop,
    source: Customer,
    target: Customer,
    actor: User | None = None,
    automatic: bool = False,
) -> CustomerMerge:
    """Fold ``source`` into ``target`` (which is kept) and return the record of the merge.

    The kept customer's stage is brought up to date at once. Its RFM and value scores are left
    to the nightly batch (``crm.tasks.stages_and_scores_refresh``): quintiles rank every customer
    of the shop, so one customer cannot be rescored alone; the merged customer's scores go.
    Both rows are locked in the order of their ids, so that two merges of overlapping pairs at
    once wait for each other instead of deadlocking, and the second sees what the first did.
    Raises InvalidInput for a customer merged with itself or across shops, Conflict for an erased
    customer, for two records linked to two different accounts (two people), or when a customer
    was merged away meanwhile.
    """
    if source.pk == target.pk:
        raise InvalidInput(_("A customer cannot be merged with itself."), code="same_customer")
    if source.shop_id != shop.pk or target.shop_id != shop.pk:
        raise InvalidInput(_("Only customers of the same shop can be merged."), code="other_shop")
    source, target = _lock_pair(shop=shop, source_id=source.pk, target_id=target.pk)
    _check_mergeable(source, target)
    now = clock.now()
    moved = _move_crm_rows(shop=shop, source=source, target=target)
    for handler in personal_data.handlers():
        moved[handler.name] = handler.merge(shop, source, target)
    CustomerScore.objects.filter(customer=source).delete()
    _check_nothing_left(source)
    merge = CustomerMerge.objects.create(
        shop=shop,
        kept=target,
        merged_customer_id=source.pk,
        merged_email=source.email,
        merged_name=source.name,
        merged_at=now,
        merged_by=actor if getattr(actor, "is_authenticated", False) else None,
        automatic=automatic,
        moved=moved,
    )
    _note(shop=shop, customer=target, merge=merge, source=source, now=now, automatic=automatic)
    Customer.objects.filter(pk=source.pk).delete()
    # Only now, with the merged row gone, can the kept one take its address or account.
    _fill_target(source=source, target=target)
    stage_update_for(shop=shop, customer=target, now=now)
    return merge


def _lock_pair(*, shop: Shop, source_id: int, target_id: int) -> tuple[Customer, Customer]:
    """Return both customers as they are now, their rows locked in the order of their ids."""
    rows = {
        customer.pk: customer
        for customer in Customer.objects.select_for_update()
        .filter(shop=shop, pk__in=[source_id, target_id])
        .order_by("pk")
    }
    if len(rows) < 2:
        raise Conflict(
            _("One of these customers no longer exists: it was merged or removed meanwhile."),
            code="gone",
        )
    return rows[source_id], rows[target_id]


def _check_mergeable(source: Customer, target: Customer) -> None:
    if source.erased_at or target.erased_at:
        raise Conflict(
            _("An erased customer cannot be merged: nothing is left to tell who they were."),
            code="erased",
        )
    if source.account_id and target.account_id and source.account_id != target.account_id:
        raise Conflict(
            _(
                "These customers have two different Kinfolk accounts: they are two people, "
                "and cannot be merged."
            ),
            code="two_accounts",
        )


def _move_crm_rows(*, shop: Shop, source: Customer, target: Customer) -> dict[str, int]:
    """Move the CRM's own rows of ``source`` to ``target``; return how many of each moved."""
    moved = {
        "interactions": Interaction.objects.filter(shop=shop, customer=source).update(
            customer=target
        ),
        "stage_changes": StageChange.objects.filter(shop=shop, customer=source).update(
            customer=target
        ),
        "consent_records": ConsentRecord.objects.filter(shop=shop, customer=source).update(
            customer=target
        ),
        "merges": CustomerMerge.objects.filter(shop=shop, kept=source).update(kept=target),
        "dates": _move_dates(shop=shop, source=source, target=target),
    }
    target_tags = set(target.tags.values_list("pk", flat=True))
    new_tags = set(source.tags.values_list("pk", flat=True)) - target_tags
    target.tags.add(*new_tags)
    source.tags.clear()
    moved["tags"] = len(new_tags)
    return moved


def _move_dates(*, shop: Shop, source: Customer, target: Customer) -> int:
    """Move the source's important dates; one the target already has is not kept twice."""
    fields = ("kind", "label", "month", "day", "year")
    known = set(CustomerDate.objects.filter(customer=target).values_list(*fields))
    duplicates = [
        pk
        for pk, *values in CustomerDate.objects.filter(customer=source).values_list("pk", *fields)
        if tuple(values) in known
    ]
    CustomerDate.objects.filter(pk__in=duplicates).delete()
    return CustomerDate.objects.filter(shop=shop, customer=source).update(customer=target)


def _check_nothing_left(source: Customer) -> None:
    """Refuse the merge when any row of any app still points at ``source``."""
    left = []
    for relation in Customer._meta.related_objects:
        model = relation.related_model
        if model in DROPPED_RELATIONS:
            continue
        if model._base_manager.filter(**{relation.field.name: source}).exists():
            left.append(model._meta.label)
    if left:
        logger.error("merge of customer %s left rows of %s", source.pk, ", ".join(left))
        raise Conflict(
            _("Some records of this customer could not be moved (%(what)s); nothing was merged.")
            % {"what": ", ".join(left)},
            code="rows_left",
        )


def _note(
    *,
    shop: Shop,
    customer: Customer,
    merge: CustomerMerge,
    source: Customer,
    now,
    automatic: bool,
) -> None:
    """Leave the merge on the kept customer's timeline (a staff note; it moves no stage)."""
    who = source.email or source.name or f"#{source.pk}"
    Interaction.objects.create(
        shop=shop,
        customer=customer,
        kind=Interaction.Kind.NOTE,
        occurred_at=now,
        source=Interaction.Source.SYSTEM if automatic else Interaction.Source.DASHBOARD,
        subject_type="customer_merge",
        subject_id=str(merge.pk),
        data={
            # Stored in English like the other notes the system writes.
            "text": f"Merged with {who}",
            "merged_customer_id": source.pk,
            "merged_email": source.email,
            "automatic": automatic,
        },
    )


def _fill_target(*, source: Customer, target: Customer) -> None:
    """Complete the kept customer from the merged one, never overwriting what it has."""
    changed = []
    for field in ("name", "country", "email"):
        if not getattr(target, field) and getattr(source, field):
            setattr(target, field, getattr(source, field))
            changed.append(field)
    if target.account_id is None and source.account_id is not None:
        target.account_id = source.account_id
        changed.append("account")
    if source.created_at < target.created_at:
        target.created_at = source.created_at
        changed.append("created_at")
    target.email_marketing = _email_marketing(target=target, source=source)
    changed.append("email_marketing")
    target.save(update_fields=changed)


def _email_marketing(*, target: Customer, source: Customer) -> bool:
    """Return the marketing consent after the merge: the latest answer either record gave.

    Without any recorded answer there is no proof of consent: only a yes from both stays yes.
    """
    latest = (
        ConsentRecord.objects.filter(customer=target, topic=ConsentRecord.Topic.EMAIL_MARKETING)
        .order_by("-recorded_at", "-id")
        .values_list("granted", flat=True)
        .first()
    )
    if latest is not None:
        return latest
    return target.email_marketing and source.email_marketing


def customers_follow_account_email(
    *, account: User, shop: Shop | None = None
) -> list[CustomerMerge]:
    """Give the account's customer records (in ``shop``, or in every shop) its current address.

    A record of the shop that already has that address is the same person recorded twice: it is
    merged into the account's record first (automatically). A record of the address linked to
    another account is someone else's: then the account's record keeps its old address. Returns
    the merges made. Does nothing for an account whose address is not confirmed.
    """
    if account is None or account.pk is None or not account.email_confirmed:
        return []
    email = normalize_email(account.email)
    if not email:
        return []
    linked = Customer.objects.filter(account=account).exclude(email=email).select_related("shop")
    if shop is not None:
        linked = linked.filter(shop=shop)
    merges: list[CustomerMerge] = []
    for customer in linked:
        merge = _follow(customer=customer, email=email)
        if merge is not None:
            merges.append(merge)
    return merges


def _follow(*, customer: Customer, email: str) -> CustomerMerge | None:
    shop = customer.shop
    merge = None
    other = Customer.objects.filter(shop=shop).with_email(email).exclude(pk=customer.pk).first()
    try:
        with transaction.atomic():
            if other is not None:
                merge = customer_merge(shop=shop, source=other, target=customer, automatic=True)
            previous = customer.email
            Customer.objects.filter(pk=customer.pk).update(email=email)
            Interaction.objects.create(
                shop=shop,
                customer=customer,
                kind=Interaction.Kind.NOTE,
                occurred_at=clock.now(),
                source=Interaction.Source.SYSTEM,
                subject_type="account",
                subject_id=str(customer.account_id),
                data={
                    "text": f"E-mail address changed from {previous} to {email} (account)",
                    # Kept apart from the text: an erasure recognises the person by it too.
                    "previous_email": previous,
                },
            )
    except (KinfolkError, IntegrityError) as exc:
        # Another account holds the address, or a concurrent request just took it: the record
        # keeps its old address and both stay as they are.
        logger.info("customer %s keeps its address: %s", customer.pk, exc)
        return None
    customer.email = email
    return merge


def merge_candidates(*, shop: Shop, customer: Customer, query: str) -> QuerySet[Customer]:
    """Return the shop's customers (not erased, not ``customer``) whose address or name holds
    ``query``, at most CANDIDATES_LIMIT of them. A read, kept beside the merge it serves."""
    query = query.strip()
    if not query:
        return Customer.objects.none()
    return (
        Customer.objects.filter(shop=shop, erased_at__isnull=True)
        .exclude(pk=customer.pk)
        .filter(Q(email__icontains=query) | Q(name__icontains=query))
        .order_by("email", "pk")[:CANDIDATES_LIMIT]
    )


def merge_preview(*, customer: Customer) -> dict[str, int]:
    """Return how many rows of each kind (model label, e.g. ``"crm.Interaction"``) point at the
    customer in every app: what a merge would move. A read, kept beside the merge it serves."""
    counts = {}
    for relation in Customer._meta.related_objects:
        model = relation.related_model
        if model in DROPPED_RELATIONS:
            continue
        count = model._base_manager.filter(**{relation.field.name: customer}).count()
        if count:
            counts[model._meta.label] = count
    tags = customer.tags.count()
    if tags:
        counts["crm.Tag"] = tags
    return counts
