"""Where apps that sell through orders take part when an order is paid, cancelled or refunded.

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
"""

from __future__ import annotations

from collections.abc import Callable
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
