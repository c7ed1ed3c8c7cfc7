"""Timelines for the stage and RFM tests, built through the CRM services with the clock moved."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from kinfolk.core import clock
from kinfolk.crm.models import Interaction
from kinfolk.crm.services import customer_get_or_create, interaction_record

START = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)
_orders = itertools.count(1)


class Timeline:
    """Records interactions at given moments, each through ``interaction_record``."""

    def __init__(self, shop, *, update_stage: bool = True):
        self.shop = shop
        self.update_stage = update_stage

    def customer(self, email: str):
        with clock.frozen(START):
            return customer_get_or_create(shop=self.shop, email=email)

    def event(self, customer, kind: str, at: dt.datetime, **extra) -> Interaction:
        with clock.frozen(at):
            return interaction_record(
                shop=self.shop,
                customer=customer,
                kind=kind,
                update_stage=self.update_stage,
                **extra,
            )

    def paid(self, customer, at: dt.datetime, total: int = 10000, number: str = "") -> Interaction:
        number = number or f"K{next(_orders):06d}"
        return self.event(
            customer,
            Interaction.Kind.ORDER_PAID,
            at,
            subject_type="order",
            subject_id=number,
            data={"total": total, "currency": self.shop.currency},
        )

    def refunded(self, customer, at: dt.datetime, number: str) -> Interaction:
        return self.event(
            customer,
            Interaction.Kind.ORDER_REFUNDED,
            at,
            subject_type="order",
            subject_id=number,
        )


@pytest.fixture
def timeline(shop):
    return Timeline(shop)


@pytest.fixture
def make_timeline():
    return Timeline


def days(n: float) -> dt.timedelta:
    return dt.timedelta(days=n)
