"""Writes of what a shop keeps about a customer besides orders: staff notes, tags, important dates.

A note is an interaction on the timeline (kind ``note``, written by staff in the dashboard). Tags
are the shop's labels; adding one by a new name creates it. Important dates recur every year;
who gave the date decides what the timeline records (``customer_date_add``).
"""

from __future__ import annotations

import calendar
import datetime as dt

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kinfolk.core import clock
from kinfolk.core.errors import InvalidInput, NotFound
from kinfolk.crm.models import Customer, CustomerDate, Interaction, Tag
from kinfolk.crm.services.customers import interaction_record
from kinfolk.shops.models import Shop

NOTE_MAX_LENGTH = 5000
TAG_MAX_LENGTH = Tag._meta.get_field("name").max_length
DATE_LABEL_MAX_LENGTH = CustomerDate._meta.get_field("label").max_length
EARLIEST_YEAR = 1900
# Any leap year: a date without a year may be February 29.
_LEAP_YEAR = 2000


def _check_customer(shop: Shop, customer: Customer) -> None:
    if customer.shop_id != shop.pk:
        raise NotFound(_("No such customer."))


@transaction.atomic
def customer_note_add(*, shop: Shop, customer: Customer, text: str, by) -> Interaction:
    """Add a staff note to the customer's timeline and return it.

    The note is an interaction of kind ``note`` from the dashboard, with the text and the e-mail
    address of the staff member who wrote it (``by``), so the timeline says who wrote what.
    """
    _check_customer(shop, customer)
    text = (text or "").strip()
    if not text:
        raise InvalidInput(_("Write a note first."), field="text")
    if len(text) > NOTE_MAX_LENGTH:
        raise InvalidInput(
            _("A note can be at most %(limit)s characters long.") % {"limit": NOTE_MAX_LENGTH},
            field="text",
        )
    return interaction_record(
        shop=shop,
        customer=customer,
        kind=Interaction.Kind.NOTE,
        source=Interaction.Source.DASHBOARD,
        data={"text": text, "by": getattr(by, "email", "") or ""},
    )


def _clean_tag_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput(_("Enter a tag."), field="name")
    if len(name) > TAG_MAX_LENGTH:
        raise InvalidInput(
            _("A tag can be at most %(limit)s characters long.") % {"limit": TAG_MAX_LENGTH},
            field="name",
        )
    return name


def _tag_get_or_create(*, shop: Shop, name: str) -> Tag:
    tag = Tag.objects.filter(shop=shop, name__iexact=name).first()
    if tag is not None:
        return tag
    try:
        with transaction.atomic():
            return Tag.objects.create(shop=shop, name=name)
    except IntegrityError:
        # Created by someone else in the meantime (the name is unique per shop, any case).
        return Tag.objects.get(shop=shop, name__iexact=name)


@transaction.atomic
def customer_tag_add(*, shop: Shop, customer: Customer, name: str) -> Tag:
    """Give the customer the shop's tag ``name`` (any case), creating the tag if it is new.

    Returns the tag. Adding a tag the customer already has changes nothing.
    """
    _check_customer(shop, customer)
    tag = _tag_get_or_create(shop=shop, name=_clean_tag_name(name))
    customer.tags.add(tag)
    return tag


@transaction.atomic
def customer_tag_remove(*, shop: Shop, customer: Customer, tag_id: int) -> Tag:
    """Take the shop's tag ``tag_id`` off the customer and return it; the tag itself stays.

    The tag is kept for the shop's other customers and for saved segments that name it.
    """
    _check_customer(shop, customer)
    tag = Tag.objects.filter(shop=shop, pk=tag_id).first()
    if tag is None:
        raise NotFound(_("No such tag."))
    customer.tags.remove(tag)
    return tag


def _check_date(*, shop: Shop, month: int, day: int, year: int | None) -> None:
    """Raise InvalidInput unless month/day (and year) name a real date that is not to come."""
    if not 1 <= month <= 12:
        raise InvalidInput(_("Choose a month."), field="month")
    days_in_month = calendar.monthrange(year or _LEAP_YEAR, month)[1]
    if not 1 <= day <= days_in_month:
        raise InvalidInput(
            _("This month has %(days)s days.") % {"days": days_in_month}, field="day"
        )
    if year is None:
        return
    today = clock.now().astimezone(shop.tzinfo).date()
    if year < EARLIEST_YEAR:
        raise InvalidInput(
            _("Enter a year from %(year)s on.") % {"year": EARLIEST_YEAR}, field="year"
        )
    if dt.date(year, month, day) > today:
        raise InvalidInput(_("The date cannot be in the future."), field="year")


@transaction.atomic
def customer_date_add(
    *,
    shop: Shop,
    customer: Customer,
    kind: str,
    month: int,
    day: int,
    year: int | None = None,
    label: str = "",
    source: str = Interaction.Source.DASHBOARD,
) -> CustomerDate:
    """Record a date that matters to the customer and return it.

    Month and day must exist (February 29 is allowed: it comes every four years); the year is
    optional and, when given, the whole date must not be in the future.

    Who gave the date decides the timeline: when the fan gives it (``source`` storefront, e.g.
    a birthday form), a ``dates_given`` interaction is recorded, and that two-way contact counts
    towards the relationship stage. When staff type it in the dashboard (the default) nothing is
    recorded as the fan's act: what staff know is not something the fan did, and it must not
    lift their stage.
    """
    _check_customer(shop, customer)
    if kind not in CustomerDate.Kind.values:
        raise InvalidInput(_("Choose what the date is."), field="kind")
    label = (label or "").strip()
    if len(label) > DATE_LABEL_MAX_LENGTH:
        raise InvalidInput(
            _("A label can be at most %(limit)s characters long.")
            % {"limit": DATE_LABEL_MAX_LENGTH},
            field="label",
        )
    _check_date(shop=shop, month=month, day=day, year=year)
    duplicate = CustomerDate.objects.filter(
        shop=shop, customer=customer, kind=kind, month=month, day=day, year=year
    )
    if duplicate.exists():
        raise InvalidInput(_("This date is already recorded."), field="day")
    date = CustomerDate.objects.create(
        shop=shop,
        customer=customer,
        kind=kind,
        label=label,
        month=month,
        day=day,
        year=year,
        created_at=clock.now(),
    )
    if source == Interaction.Source.STOREFRONT:
        interaction_record(
            shop=shop,
            customer=customer,
            kind=Interaction.Kind.DATES_GIVEN,
            source=source,
            subject_type="customer_date",
            subject_id=date.pk,
            data={"kind": kind, "month": month, "day": day},
        )
    return date


@transaction.atomic
def customer_date_remove(*, shop: Shop, customer: Customer, date_id: int) -> None:
    """Remove one of the customer's important dates; another customer's date is not found."""
    _check_customer(shop, customer)
    deleted, _rows = CustomerDate.objects.filter(shop=shop, customer=customer, pk=date_id).delete()
    if not deleted:
        raise NotFound(_("No such date."))
