"""Writes of the relationship ledger: customers and the interaction timeline.

Other apps never create Customer or Interaction rows themselves; they call these services.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kinfolk.accounts.models import User, normalize_email
from kinfolk.core import clock
from kinfolk.core.errors import InvalidInput
from kinfolk.core.prepared import PreparedQuery, insert
from kinfolk.crm.models import Customer, Interaction
from kinfolk.crm.services.merges import customers_follow_account_email
from kinfolk.crm.services.stages import stage_update_for
from kinfolk.crm.stage_rules import AFFECTS_STAGE
from kinfolk.shops.models import Shop

# The lookup by address that every order makes, compiled once per process (``core.prepared``).
_BY_EMAIL = PreparedQuery(
    lambda shop_id, blank, email: Customer.objects.filter(shop_id=shop_id).with_email(
        email, blank=blank
    )
)


@dataclass(frozen=True)
class CustomerLookup:
    """What ``customer_get_or_create`` reads before it writes (see ``customer_lookup``)."""

    email: str  # normalised
    customer: Customer | None  # the shop's customer with this address, if there is one
    account: User | None  # the account to link to the customer (None: none may be linked)


def customer_lookup(*, shop: Shop, email: str, account: User | None = None) -> CustomerLookup:
    """Find the shop's customer with this address, and whether ``account`` may be linked to it.

    ``customer_get_or_create`` does this itself; a caller about to open a write transaction
    does it before and hands the result over, so that the transaction holds only the writes.
    Raises InvalidInput for an empty address.
    """
    email = normalize_email(email)
    if not email:
        raise InvalidInput(_("An e-mail address is required."), field="email")
    if account is not None:
        # The account's record in the shop takes the account's current address (merging a
        # record that already has it) before the address is looked up.
        customers_follow_account_email(account=account, shop=shop)
    if account is not None and not _may_link(shop=shop, email=email, account=account):
        account = None
    # One at most: a unique index on the shop and the address.
    found = _BY_EMAIL.objects(shop.pk, "", email)
    return CustomerLookup(email=email, customer=found[0] if found else None, account=account)


def customer_get_or_create(
    *,
    shop: Shop,
    email: str,
    name: str = "",
    country: str = "",
    account: User | None = None,
    lookup: CustomerLookup | None = None,
) -> Customer:
    """Return the shop's customer with this address, creating it on first contact.

    Safe under concurrency: two first orders at once end with one customer (unique constraint).
    ``account`` is linked to the customer only when this is the account's own, confirmed
    address and neither side is linked yet; any other address (a gift sent to someone else,
    a typo, a stranger's address) gives its customer unlinked, so that nobody reaches another
    person's history by typing their address.

    ``lookup`` is ``customer_lookup``'s answer for the same shop, address and account, read
    by the caller before its transaction; without it the lookup is made here.
    """
    if lookup is None or lookup.email != normalize_email(email):
        lookup = customer_lookup(shop=shop, email=email, account=account)
    email, customer, account = lookup.email, lookup.customer, lookup.account
    if customer is not None and customer.shop_id != shop.pk:
        raise InvalidInput(_("This customer belongs to another shop."))
    if customer is None:
        try:
            # A savepoint: another request may have created the same customer meanwhile.
            with transaction.atomic():
                return Customer.objects.create(
                    shop=shop,
                    email=email,
                    name=name,
                    country=country,
                    account=account,
                    created_at=clock.now(),
                )
        except IntegrityError:
            customer = Customer.objects.filter(shop=shop).with_email(email).first()
            if customer is None:
                # Not the address: the account got another record of the shop meanwhile
                # (one per account and shop). This address's record is made unlinked.
                with transaction.atomic():
                    return Customer.objects.create(
                        shop=shop, email=email, name=name, country=country, created_at=clock.now()
                    )
    changed = []
    if account is not None and customer.account_id is None:
        customer.account = account
        changed.append("account")
    if name and not customer.name:
        customer.name = name
        changed.append("name")
    if country and not customer.country:
        customer.country = country
        changed.append("country")
    if changed:
        with transaction.atomic(savepoint=False):
            customer.save(update_fields=changed)
    return customer


def _may_link(*, shop: Shop, email: str, account: User) -> bool:
    """Return whether ``account`` proved it owns ``email`` and has no customer in the shop yet."""
    if not account.email_confirmed or normalize_email(account.email) != email:
        return False
    # One customer per account and shop: one already linked (under an older address) stays.
    return not Customer.objects.filter(shop=shop, account=account).exclude(email=email).exists()


@transaction.atomic
def customers_link_account(*, account) -> int:
    """Link every customer record with the account's address (guest orders, imports) to it.

    Returns how many records were linked.
    """
    # Where the account already has a record under an older address, the record with its
    # current address is merged into that one instead of being linked beside it.
    customers_follow_account_email(account=account)
    return Customer.objects.filter(email__iexact=account.email, account__isnull=True).update(
        account=account
    )


def interaction_record(
    *,
    shop: Shop,
    customer: Customer,
    kind: str,
    source: str = Interaction.Source.SYSTEM,
    occurred_at: dt.datetime | None = None,
    subject_type: str = "",
    subject_id: str | int = "",
    data: dict[str, Any] | None = None,
    update_stage: bool = True,
    defer_stage: bool = False,
) -> Interaction:
    """Append one event to the customer's timeline and return it.

    An event that can move the customer's stage updates it at once, in the same transaction
    (``stage_update_for``). With ``defer_stage`` the update runs in the background worker after
    commit instead: callers on a hot path (placing an order, a payment callback) keep their write
    transaction short. A bulk import passes ``update_stage=False`` and recomputes the shop's
    stages once at the end (``stages_recompute``).
    """
    if customer.shop_id != shop.pk:
        raise InvalidInput(_("This customer belongs to another shop."))
    if kind not in Interaction.Kind.values:
        raise InvalidInput(f"Unknown interaction kind {kind!r}.")
    # The stage's own record (stage_changed) is not in AFFECTS_STAGE: no recursion.
    stage_now = update_stage and kind in AFFECTS_STAGE and not defer_stage
    stage_later = update_stage and kind in AFFECTS_STAGE and defer_stage
    # A savepoint only around the stage's update: inside a caller's transaction (an order, a
    # payment) the INSERT alone needs none, and two statements fewer keep its write lock short.
    # Outside one, this is a transaction of its own either way (core/sqlite queues it).
    with transaction.atomic(savepoint=stage_now):
        interaction = insert(
            Interaction(
                shop=shop,
                customer=customer,
                kind=kind,
                source=source,
                occurred_at=occurred_at or clock.now(),
                subject_type=subject_type,
                subject_id=str(subject_id),
                data=data or {},
            )
        )
        if stage_now:
            stage_update_for(shop=shop, customer=customer)
    if stage_later:
        from kinfolk.crm.tasks import customer_stage_update

        shop_id, customer_id = shop.pk, customer.pk
        transaction.on_commit(lambda: customer_stage_update(shop_id, customer_id))
    return interaction
