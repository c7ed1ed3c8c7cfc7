"""The waitlist of a sold-out edition: fans queue, and each freed copy is offered in turn."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from kinfolk.accounts.models import normalize_email
from kinfolk.core import clock
from kinfolk.core.errors import InvalidInput, KinfolkError, NotFound
from kinfolk.crm.models import Interaction
from kinfolk.drops.models import Edition, Hold, WaitlistEntry
from kinfolk.drops.services.holds import SoldOut, hold_take
from kinfolk.drops.timeline import timeline_note_after_commit
from kinfolk.shops.models import Shop


@transaction.atomic
def waitlist_join(
    *,
    shop: Shop,
    edition: Edition,
    email: str,
    account=None,
    language: str = "en",
    now: dt.datetime | None = None,
) -> WaitlistEntry:
    """Put the fan on the edition's waitlist (at the back when they had left or passed);
    ``language`` is the one their offer e-mail is written in."""
    if edition.shop_id != shop.pk:
        raise NotFound(_("No such drop."))
    now = now or clock.now()
    email = normalize_email(email)
    if not email:
        raise InvalidInput(_("An e-mail address is required."), field="email")
    account = account if account is not None and account.is_authenticated else None
    entry, created = WaitlistEntry.objects.get_or_create(
        edition=edition,
        email=email,
        defaults={"shop": shop, "account": account, "joined_at": now, "language": language},
    )
    rejoined = not created and entry.status in {
        WaitlistEntry.Status.LEFT,
        WaitlistEntry.Status.PASSED,
    }
    if rejoined:
        entry.status, entry.joined_at, entry.offer = WaitlistEntry.Status.WAITING, now, None
        entry.language = language
        entry.save(update_fields=["status", "joined_at", "offer", "language"])
    if created or rejoined:
        timeline_note_after_commit(
            shop=shop,
            edition_id=edition.pk,
            email=email,
            account=account,
            kind=Interaction.Kind.WAITLIST_JOINED,
            occurred_at=now,
        )
    return entry


@transaction.atomic
def waitlist_leave(*, shop: Shop, edition: Edition, email: str) -> None:
    """Take the fan off the waitlist (an offer they hold stays theirs until it lapses)."""
    WaitlistEntry.objects.filter(
        shop=shop,
        edition=edition,
        email=normalize_email(email),
        status=WaitlistEntry.Status.WAITING,
    ).update(status=WaitlistEntry.Status.LEFT)


def _pass_on_ended_offers(edition: Edition, now: dt.datetime) -> None:
    """Mark offers whose hold was released or lapsed as passed."""
    offered = WaitlistEntry.objects.filter(edition=edition, status=WaitlistEntry.Status.OFFERED)
    ended = offered.exclude(offer__status=Hold.Status.ACTIVE) | offered.filter(
        offer__status=Hold.Status.ACTIVE, offer__expires_at__lte=now
    )
    WaitlistEntry.objects.filter(pk__in=ended.values("pk")).exclude(
        offer__status=Hold.Status.PAID
    ).update(status=WaitlistEntry.Status.PASSED)


@transaction.atomic
def waitlist_offer_freed(
    *, shop: Shop, edition: Edition, now: dt.datetime | None = None
) -> list[WaitlistEntry]:
    """Offer every copy that is free now to the fans waiting longest, each with a hold of their
    own; return the entries offered a copy (the caller e-mails them after commit).

    A fan whose offer lapsed or was given back is passed over for good; one who cannot take a
    copy (limit reached, already holding one) is passed over too.
    """
    now = now or clock.now()
    _pass_on_ended_offers(edition, now)
    offered: list[WaitlistEntry] = []
    waiting = WaitlistEntry.objects.filter(
        edition=edition, status=WaitlistEntry.Status.WAITING
    ).order_by("joined_at", "id")
    for entry in waiting.iterator():
        try:
            with transaction.atomic():
                outcome = hold_take(
                    shop=shop,
                    edition=edition,
                    email=entry.email,
                    account=entry.account,
                    source=Hold.Source.WAITLIST,
                    now=now,
                )
        except SoldOut:
            break
        except KinfolkError:
            entry.status = WaitlistEntry.Status.PASSED
            entry.save(update_fields=["status"])
            continue
        entry.status, entry.offer = WaitlistEntry.Status.OFFERED, outcome.hold
        entry.save(update_fields=["status", "offer"])
        offered.append(entry)
    return offered
