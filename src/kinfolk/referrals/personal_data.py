"""The referrals' part in a person's data requests, registered with ``kinfolk.crm.personal_data``.

What the app holds about a person in a shop: their share link, the visits it brought (counted;
a visitor is only an anonymous hash), who they brought and who brought them (customer records,
never names), and the rewards they got with their codes.

An erasure keeps the shop's anonymous counts (visits, referrals, rewards given) and cuts what
still leads to the person: the share link gets a fresh code, so that links they posted no longer
credit the erased record, and an unused reward code is voided. The visits' hashes stand for
other people's browsers, not for the person, and are left alone.

A merge keeps one share link per shop (the target's, if it has one, with the source's visits and
referrals moved to it), moves the source's referrals both ways (first touch wins where both were
referred; a referral that would become one's own is dropped), and moves the source's rewards;
where both had one rule's reward, one is kept (the one used for an order, else the target's).
"""

from __future__ import annotations

from typing import Any

from kinfolk.crm import personal_data
from kinfolk.crm.models import Customer
from kinfolk.referrals.models import (
    Referral,
    RewardGrant,
    ShareLink,
    ShareVisit,
    new_share_code,
)
from kinfolk.shops.models import Shop


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def referrals_data_export(shop: Shop, customer: Customer) -> dict[str, Any]:
    """Return the person's share link, its figures, their referrals and their rewards."""
    link = ShareLink.objects.filter(shop=shop, customer=customer).first()
    received = Referral.objects.filter(shop=shop, referred=customer).first()
    made = Referral.objects.filter(shop=shop, referrer=customer).order_by("created_at", "id")
    grants = (
        RewardGrant.objects.filter(shop=shop, customer=customer)
        .select_related("rule", "redeemed_order")
        .order_by("granted_at", "id")
    )
    return {
        "share_link": link.code if link else None,
        "share_link_created_at": _iso(link.created_at) if link else None,
        "visits_through_link": ShareVisit.objects.filter(link=link).count() if link else 0,
        "referred_by": (
            {
                "channel": received.channel,
                "first_visit_at": _iso(received.first_visit_at),
                "at": _iso(received.created_at),
            }
            if received
            else None
        ),
        "referrals_made": [
            {"channel": r.channel, "at": _iso(r.created_at), "credits": r.credits.count()}
            for r in made
        ],
        "rewards": [
            {
                "reward": grant.rule.name,
                "granted_at": _iso(grant.granted_at),
                "code": grant.code or None,
                "used_for_order": grant.redeemed_order.number if grant.redeemed_order else None,
            }
            for grant in grants
        ],
    }


def referrals_data_erase(shop: Shop, customer: Customer) -> int:
    """Give the person's share link a fresh code and void their unused reward codes; return
    the rows changed. Counts stay."""
    changed = 0
    for link in ShareLink.objects.filter(shop=shop, customer=customer):
        ShareLink.objects.filter(pk=link.pk).update(code=new_share_code())
        changed += 1
    changed += (
        RewardGrant.objects.filter(shop=shop, customer=customer, redeemed_order__isnull=True)
        .exclude(code="")
        .update(code="")
    )
    return changed


def referrals_merge(shop: Shop, source: Customer, target: Customer) -> int:
    """Move the source's share link, referrals and rewards to the target; return rows moved."""
    moved = _merge_links(shop, source, target)
    # Referrals between the two records would make the person their own referrer.
    Referral.objects.filter(shop=shop, referrer=source, referred=target).delete()
    Referral.objects.filter(shop=shop, referrer=target, referred=source).delete()
    moved += Referral.objects.filter(shop=shop, referrer=source).update(referrer=target)
    mine = Referral.objects.filter(shop=shop, referred=source).first()
    theirs = Referral.objects.filter(shop=shop, referred=target).first()
    if mine is not None:
        if theirs is not None and theirs.first_visit_at <= mine.first_visit_at:
            mine.delete()  # First touch wins.
        else:
            if theirs is not None:
                theirs.delete()
            moved += Referral.objects.filter(pk=mine.pk).update(referred=target)
    moved += _merge_grants(shop, source, target)
    return moved


def _merge_grants(shop: Shop, source: Customer, target: Customer) -> int:
    """Move the source's rewards to the target. Where both earned one rule's reward, the person
    keeps one (a rule gives it once): the one already used for an order, else the target's; the
    other is deleted, its unused code with it."""
    held = {
        grant.rule_id: grant for grant in RewardGrant.objects.filter(shop=shop, customer=target)
    }
    moved = 0
    for grant in RewardGrant.objects.filter(shop=shop, customer=source):
        kept = held.get(grant.rule_id)
        if kept is not None:
            if kept.redeemed_order_id is None and grant.redeemed_order_id is not None:
                kept.delete()
            else:
                grant.delete()
                continue
        moved += RewardGrant.objects.filter(pk=grant.pk).update(customer=target)
    return moved


def _merge_links(shop: Shop, source: Customer, target: Customer) -> int:
    old = ShareLink.objects.filter(shop=shop, customer=source).first()
    if old is None:
        return 0
    kept = ShareLink.objects.filter(shop=shop, customer=target).first()
    if kept is None:
        return ShareLink.objects.filter(pk=old.pk).update(customer=target)
    moved = ShareVisit.objects.filter(link=old).update(link=kept)
    moved += Referral.objects.filter(link=old).update(link=kept)
    old.delete()
    return moved


def register_handlers() -> None:
    """Register the referrals' handlers (called from ``ReferralsConfig.ready``)."""
    personal_data.register(
        "referrals",
        export=referrals_data_export,
        erase=referrals_data_erase,
        merge=referrals_merge,
    )
