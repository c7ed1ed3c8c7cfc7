"""Where apps that sell through orders take part when an order is paid, cancelled or refunded,
and in the discount codes checkout takes (see the section on discounts below).

Dependencies point one way (drops → orders → crm): the orders app cannot import the apps built
on it, yet a limited edition must hand out its numbered copy the moment its order is paid, and
take it back the moment the order is cancelled or refunded, in the same transaction, so that a
copy is never sold to an order that did not commit nor kept by one that was undone.

So an app registers handlers here once, from its ``AppConfig.ready()`` (a second registration
under the same name replaces the first, so a ``ready()`` that runs twice is harmless), and the
lifecycle services (``kinfolk.orders.services.lifecycle``) run them:

- inside their transaction, after the order's new status is saved, with the shop and the order
  (its row locked for the rest of the transaction);
- in the order they were registered; a handler that raises undoes the whole status change (a
  payment callback then answers with an error and the processor delivers it again), so a handler
  catches what it can settle itself and raises only what a retry may cure;
- with nothing sent from inside: e-mails and tasks go through ``transaction.on_commit``.

A handler that reads the order's lines says so with ``reads_order_lines`` (naming the relations
it follows from each line, e.g. ``"variant__edition"``) and reads them as ``order.lines.all()``:
the lifecycle services load them once for every handler, with the variants' products and those
relations, and a payment callback loads them before its write transaction (the lines of an order
do not change once it is placed), so that the transaction holds only the writes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kinfolk.orders.models import Order
    from kinfolk.shops.models import Shop

OrderHandler = Callable[..., None]  # handler(*, shop: Shop, order: Order) -> None

PAID = "paid"
CANCELLED = "cancelled"
REFUNDED = "refunded"
EVENTS = (PAID, CANCELLED, REFUNDED)

_handlers: dict[str, dict[str, OrderHandler]] = {event: {} for event in EVENTS}


def register(
    name: str,
    *,
    paid: OrderHandler | None = None,
    cancelled: OrderHandler | None = None,
    refunded: OrderHandler | None = None,
) -> None:
    """Register an app's handlers under ``name``; each is called as ``handler(shop=, order=)``."""
    for event, handler in ((PAID, paid), (CANCELLED, cancelled), (REFUNDED, refunded)):
        if handler is None:
            _handlers[event].pop(name, None)
        else:
            _handlers[event][name] = handler


def run_handlers(event: str, *, shop: Shop, order: Order) -> None:
    """Call every handler registered for ``event`` with the shop and the (locked) order."""
    for handler in list(_handlers[event].values()):
        handler(shop=shop, order=order)


def reads_order_lines(*relations: str) -> Callable[[OrderHandler], OrderHandler]:
    """Mark a handler as one that reads ``order.lines.all()`` and, of each line, ``relations``
    (``select_related`` paths from an order line, e.g. ``"variant__product__release"``)."""

    def mark(handler: OrderHandler) -> OrderHandler:
        handler.order_line_relations = tuple(relations)
        return handler

    return mark


def line_relations(event: str) -> tuple[str, ...]:
    """Return what the handlers registered for ``event`` read of each order line (see
    ``reads_order_lines``), each relation once, in the order they were registered."""
    relations: dict[str, None] = {}
    for handler in list(_handlers[event].values()):
        relations.update(dict.fromkeys(getattr(handler, "order_line_relations", ())))
    return tuple(relations)


# --- Discounts --------------------------------------------------------------------------------
#
# A code the fan types at checkout (a reward for bringing friends, later perhaps a shop's promo)
# is known to the app that issued it, not to orders. Such an app registers, from its ``ready()``:
#
# - ``find(*, shop, code, email, account)`` → ``Discount`` or None: None when the code is not
#   one of the app's; raises ``core.errors.InvalidInput`` (field ``discount_code``) when it is
#   but may not be used by this buyer (someone else's, already used);
# - ``redeem(*, shop, order, discount)``: called inside the order's transaction once the order
#   row exists; takes the code with one conditional write and raises ``core.errors.Conflict``
#   (field ``discount_code``) when another order took it first: the whole order is undone;
# - ``offers(*, shop, account)`` → list of ``Discount``: what a logged-in fan may use in the shop
#   (shown at checkout), optional.


@dataclass(frozen=True)
class Discount:
    """A discount found for a code: a percentage of the subtotal, or a fixed amount off it."""

    code: str
    label: str
    percent: int = 0
    amount: int = 0  # minor units of the shop's currency
    source: str = ""  # the registering app's name; set by ``discount_find``
    token: str = ""  # the issuing app's own reference (e.g. a row id), handed back to redeem

    def amount_off(self, subtotal: int) -> int:
        """Return the minor units taken off ``subtotal`` (never more than it).

        A percentage rounds half up to the currency's smallest unit (a cent, a won).
        """
        off = (subtotal * self.percent + 50) // 100 if self.percent else self.amount
        return max(0, min(off, subtotal))


DiscountFinder = Callable[..., "Discount | None"]
DiscountRedeemer = Callable[..., None]
DiscountOffers = Callable[..., "list[Discount]"]


@dataclass(frozen=True)
class _DiscountSource:
    find: DiscountFinder
    redeem: DiscountRedeemer
    offers: DiscountOffers | None


_discounts: dict[str, _DiscountSource] = {}


def register_discounts(
    name: str,
    *,
    find: DiscountFinder,
    redeem: DiscountRedeemer,
    offers: DiscountOffers | None = None,
) -> None:
    """Register an app's discount codes under ``name`` (again under the same name replaces)."""
    _discounts[name] = _DiscountSource(find=find, redeem=redeem, offers=offers)


def discount_find(*, shop: Shop, code: str, email: str = "", account=None) -> Discount | None:
    """Return the discount a registered app knows ``code`` as, or None when none does."""
    for name, source in list(_discounts.items()):
        found = source.find(shop=shop, code=code, email=email, account=account)
        if found is not None:
            return replace(found, source=name)
    return None


def discount_redeem(*, shop: Shop, order: Order, discount: Discount) -> None:
    """Have the app that issued ``discount`` take it for ``order`` (inside its transaction)."""
    _discounts[discount.source].redeem(shop=shop, order=order, discount=discount)


def discount_offers(*, shop: Shop, account) -> list[Discount]:
    """Return the discounts every registered app offers the logged-in ``account`` in ``shop``."""
    found: list[Discount] = []
    for name, source in list(_discounts.items()):
        if source.offers is not None:
            found += [replace(d, source=name) for d in source.offers(shop=shop, account=account)]
    return found
