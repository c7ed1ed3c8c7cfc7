"""The shop's orders: the list, one order, and the actions staff take on it.

Each action is a POST that calls one lifecycle service; a refusal shows the order again with the
service's message and what staff typed, never a 500.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from kinfolk.core.addresses import address_format
from kinfolk.core.errors import KinfolkError
from kinfolk.dashboard import selectors
from kinfolk.dashboard.forms import (
    ReasonForm,
    RefundActionForm,
    RefundForm,
    ShipForm,
    add_service_error,
    focus_first_error,
)
from kinfolk.dashboard.views.access import dashboard_render, shop_view
from kinfolk.orders.models import Order, Payment
from kinfolk.orders.notes import REFUND_NEEDED_NOTE, order_note_display
from kinfolk.orders.services import lifecycle, refunds
from kinfolk.shops.models import Shop

ORDERS_PER_PAGE = 50
STATUS_LABELS = dict(Order.Status.choices)


@shop_view()
def order_list(request: HttpRequest, shop: Shop) -> HttpResponse:
    """The orders, newest first: status tabs with counts, search by number or e-mail, 50 a page."""
    status = request.GET.get("status", "")
    if status not in STATUS_LABELS:
        status = ""
    query = request.GET.get("q", "").strip()[:100]
    counts = selectors.order_status_counts(shop=shop, query=query)
    tabs = [("", _("All"), counts[""])] + [
        (value, label, counts[value]) for value, label in Order.Status.choices
    ]
    paginator = Paginator(
        selectors.orders_search(shop=shop, status=status, query=query), ORDERS_PER_PAGE
    )
    page = paginator.get_page(request.GET.get("page"))
    context = {
        "tabs": tabs,
        "status": status,
        "query": query,
        "page": page,
        "base_query": urlencode({k: v for k, v in {"status": status, "q": query}.items() if v}),
    }
    return dashboard_render(request, shop, "dashboard/orders.html", context, section="orders")


def _shipments(order: Order) -> list[dict]:
    lines = {line.pk: line for line in order.lines.all()}
    return [
        {
            "shipment": shipment,
            "items": [
                (lines[item.order_line_id], item.quantity)
                for item in shipment.lines.all()
                if item.order_line_id in lines
            ],
        }
        for shipment in order.shipments.all()
    ]


def _actions(order: Order) -> dict[str, bool]:
    """Return which actions the order's state machine allows now."""
    can = order.can_transition_to
    return {
        "mark_paid": can(Order.Status.PAID),
        "ship": order.needs_shipping
        and (can(Order.Status.SHIPPED) or can(Order.Status.PARTIALLY_SHIPPED)),
        "deliver": can(Order.Status.DELIVERED),
        "cancel": can(Order.Status.CANCELLED),
        "refund": can(Order.Status.REFUNDED),
    }


def _order_page(
    request: HttpRequest,
    shop: Shop,
    order: Order,
    *,
    failed: str = "",
    form: forms.Form | None = None,
    status: int = 200,
) -> HttpResponse:
    """Render the order; ``failed`` names the action whose bound ``form`` holds the errors."""
    lines = list(order.lines.all())
    focus_first_error(form)
    events = list(order.events.all())
    payments = list(order.payments.all())
    refund_left = sum(payment.refundable for payment in payments)
    order_refunds = [
        {
            "refund": refund,
            "reason": order_note_display(refund.reason),
            "message": order_note_display(refund.message),
        }
        for refund in order.refunds.all()
    ]
    context = {
        "order": order,
        "refund_needed": any(event.note == REFUND_NEEDED_NOTE for event in events),
        "lines": lines,
        "address": address_format(order.shipping_address) if order.shipping_address else "",
        "events": [
            {
                "event": event,
                "from": STATUS_LABELS.get(event.from_status, event.from_status),
                "to": STATUS_LABELS.get(event.to_status, event.to_status),
                "note": order_note_display(event.note),
                "actor": _("system") if event.actor_label == "system" else event.actor_label,
            }
            for event in events
        ],
        "payments": payments,
        "refunds": order_refunds,
        "open_refunds": [row for row in order_refunds if row["refund"].is_open],
        "refunded": sum(r["refund"].amount for r in order_refunds if not r["refund"].is_open),
        "refunding": sum(r["refund"].amount for r in order_refunds if r["refund"].is_open),
        "refund_left": refund_left,
        "shipments": _shipments(order),
        "actions": _actions(order),
        "failed": failed,
        "ship_form": form if failed == "ship" else ShipForm(lines=lines),
        "forms": {
            **{
                name: form if failed == name else ReasonForm(prefix=name)
                for name in ("mark_paid", "cancel")
            },
            "refund": form
            if failed == "refund"
            else RefundForm(prefix="refund", currency=order.currency, left=refund_left),
        },
        "failed_form": form,
    }
    return dashboard_render(
        request, shop, "dashboard/order.html", context, section="orders", status=status
    )


@shop_view()
def order_detail(request: HttpRequest, shop: Shop, order: Order) -> HttpResponse:
    """One order: lines, totals, address, payments, history, parcels and the allowed actions."""
    return _order_page(request, shop, order)


def _act(
    request: HttpRequest,
    shop: Shop,
    order: Order,
    *,
    name: str,
    form: forms.Form,
    call: Callable[[forms.Form], object],
    done: str,
) -> HttpResponse:
    """Validate ``form``, run one service through ``call``; on success go back to the order."""
    if form.is_valid():
        try:
            call(form)
        except KinfolkError as exc:
            add_service_error(form, exc)
            return _order_page(request, shop, order, failed=name, form=form, status=exc.status)
        messages.success(request, done)
        return redirect("dashboard:order", shop=shop.slug, number=order.number)
    return _order_page(request, shop, order, failed=name, form=form, status=400)


@shop_view(methods=("POST",))
def order_mark_paid(request: HttpRequest, shop: Shop, order: Order) -> HttpResponse:
    return _act(
        request,
        shop,
        order,
        name="mark_paid",
        form=ReasonForm(request.POST, prefix="mark_paid"),
        call=lambda form: lifecycle.order_mark_paid(
            shop=shop, order=order, actor=request.user, note=form.cleaned_data["note"]
        ),
        done=_("Order #%(number)s is marked paid; the fan gets a confirmation.")
        % {"number": order.number},
    )


@shop_view(methods=("POST",))
def order_ship(request: HttpRequest, shop: Shop, order: Order) -> HttpResponse:
    return _act(
        request,
        shop,
        order,
        name="ship",
        form=ShipForm(request.POST, lines=order.lines.all()),
        call=lambda form: lifecycle.order_ship(
            shop=shop,
            order=order,
            actor=request.user,
            carrier=form.cleaned_data["carrier"],
            tracking_number=form.cleaned_data["tracking_number"],
            quantities=form.quantities(),
        ),
        done=_("The parcel is recorded; the fan gets an e-mail with the tracking number."),
    )


@shop_view(methods=("POST",))
def order_mark_delivered(request: HttpRequest, shop: Shop, order: Order) -> HttpResponse:
    return _act(
        request,
        shop,
        order,
        name="deliver",
        form=forms.Form(request.POST),
        call=lambda form: lifecycle.order_mark_delivered(
            shop=shop, order=order, actor=request.user
        ),
        done=_("Order #%(number)s is marked delivered.") % {"number": order.number},
    )


@shop_view(methods=("POST",))
def order_cancel(request: HttpRequest, shop: Shop, order: Order) -> HttpResponse:
    return _act(
        request,
        shop,
        order,
        name="cancel",
        form=ReasonForm(request.POST, prefix="cancel"),
        call=lambda form: lifecycle.order_cancel(
            shop=shop, order=order, actor=request.user, reason=form.cleaned_data["note"]
        ),
        done=_("Order #%(number)s is cancelled and its stock is back on sale.")
        % {"number": order.number},
    )


def _refund_left(order: Order) -> int:
    return sum(
        payment.refundable for payment in order.payments.filter(status=Payment.Status.APPROVED)
    )


@shop_view(methods=("POST",))
def order_refund(request: HttpRequest, shop: Shop, order: Order) -> HttpResponse:
    """Refund the order, all that is left or part of it; or, with ``action``, act on one of its
    refunds: "retry" asks the provider again (same key), "mark_sent" records that staff
    returned the money themselves."""
    action = request.POST.get("action", "refund")
    if action in ("retry", "mark_sent"):
        return _refund_action(request, shop, order, action)
    form = RefundForm(
        request.POST, prefix="refund", currency=order.currency, left=_refund_left(order)
    )
    if not form.is_valid():
        return _order_page(request, shop, order, failed="refund", form=form, status=400)
    try:
        order = lifecycle.order_refund(
            shop=shop,
            order=order,
            actor=request.user,
            reason=form.cleaned_data["note"],
            amount=form.cleaned_data["amount"],
            idempotency_key=form.cleaned_data["idempotency_key"],
        )
    except KinfolkError as exc:
        add_service_error(form, exc)
        return _order_page(request, shop, order, failed="refund", form=form, status=exc.status)
    if order.status == Order.Status.REFUNDED:
        done = _(
            "Order #%(number)s is refunded; unshipped items are back in stock. "
            "The money goes back through the payment provider."
        )
    else:
        done = _("A part of order #%(number)s is being refunded through the payment provider.")
    messages.success(request, done % {"number": order.number})
    return redirect("dashboard:order", shop=shop.slug, number=order.number)


def _refund_action(request: HttpRequest, shop: Shop, order: Order, action: str) -> HttpResponse:
    form = RefundActionForm(request.POST)
    if not form.is_valid():
        form.add_error(None, _("This refund does not exist."))
        return _order_page(request, shop, order, failed="refund_action", form=form, status=400)
    refund_id = form.cleaned_data["refund"]
    if not order.refunds.filter(pk=refund_id).exists():
        form.add_error(None, _("This refund does not exist."))
        return _order_page(request, shop, order, failed="refund_action", form=form, status=404)
    try:
        if action == "retry":
            refunds.refund_retry(shop=shop, refund_id=refund_id, actor=request.user)
            done = _("The refund is being sent to the payment provider again.")
        else:
            refunds.refund_mark_sent(shop=shop, refund_id=refund_id, actor=request.user)
            done = _("The refund is marked as sent.")
    except KinfolkError as exc:
        add_service_error(form, exc)
        return _order_page(
            request, shop, order, failed="refund_action", form=form, status=exc.status
        )
    messages.success(request, done)
    return redirect("dashboard:order", shop=shop.slug, number=order.number)
