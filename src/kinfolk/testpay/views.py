"""The hosted payment page where the buyer enters a card."""

from __future__ import annotations

import uuid

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from kinfolk.core.errors import InvalidInput, NotFound
from kinfolk.core.money import format_money
from kinfolk.testpay import cards, selectors, services

FIELDS = ("card_number", "expiry", "cvc", "name")


def _render(
    request: HttpRequest, charge, *, values: dict | None = None, errors: dict | None = None
) -> HttpResponse:
    context = {
        "charge": charge,
        "amount": format_money(charge.amount, charge.currency),
        "values": values or {},
        "errors": errors or {},
        "test_cards": cards.TEST_CARDS_HELP,
    }
    return render(request, "testpay/pay.html", context)


@require_http_methods(["GET", "POST"])
def pay(request: HttpRequest, charge_id: uuid.UUID) -> HttpResponse:
    """Show the card form; on a valid card decide the charge and send the buyer back (303)."""
    try:
        charge = selectors.charge_get(charge_id=charge_id)
    except NotFound:
        # The processor's own page, not the merchant's: the buyer is on the processor's site.
        return render(request, "testpay/not_found.html", status=404)
    if request.method == "GET" or charge.is_decided:
        return _render(request, charge)

    values = {field: request.POST.get(field, "") for field in FIELDS}
    try:
        charge = services.charge_pay(charge_id=charge.pk, charge=charge, **values)
    except InvalidInput as exc:
        return _render(request, charge, values=values, errors=exc.errors)
    return HttpResponseRedirect(charge.return_url, status=303)
