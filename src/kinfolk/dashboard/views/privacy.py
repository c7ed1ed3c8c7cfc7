"""The privacy actions of a customer page: merge with another record of the same person, download
everything the shop holds about the customer, erase their personal data.

Each page is reached from ``dashboard/_customer_privacy_actions.html`` on the customer page; each
POST calls one service and a refusal shows the page again with the service's message.
"""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kinfolk.accounts.models import normalize_email
from kinfolk.core.errors import KinfolkError, NotFound
from kinfolk.crm.models import Customer, Erasure
from kinfolk.crm.selectors import customer_get_for_shop
from kinfolk.crm.services import merges
from kinfolk.crm.services.privacy import customer_data_export, customer_erase
from kinfolk.dashboard.views.access import dashboard_render, shop_view
from kinfolk.shops.models import Shop

# What a merge moves, named for staff (merge_preview counts rows per model label).
MOVED_LABELS = {
    "crm.Interaction": gettext_lazy("Timeline events"),
    "crm.StageChange": gettext_lazy("Stage changes"),
    "crm.ConsentRecord": gettext_lazy("Consent answers"),
    "crm.CustomerDate": gettext_lazy("Important dates"),
    "crm.CustomerMerge": gettext_lazy("Earlier merges"),
    "crm.Tag": gettext_lazy("Tags"),
    "orders.Order": gettext_lazy("Orders"),
}
KEEP_THIS, KEEP_OTHER = "this", "other"


def customer_page_url(shop: Shop, customer: Customer) -> str:
    """Return the customer's page, or the shop's overview where there is no customer page."""
    try:
        return reverse("dashboard:customer", kwargs={"shop": shop.slug, "customer_id": customer.pk})
    except NoReverseMatch:
        return reverse("dashboard:overview", kwargs={"shop": shop.slug})


def _json_attachment(data: dict, filename: str) -> HttpResponse:
    body = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    # Personal data: never kept by a browser's or a proxy's cache.
    response["Cache-Control"] = "no-store"
    return response


@shop_view()
def customer_data_download(request: HttpRequest, shop: Shop, customer: Customer) -> HttpResponse:
    """Everything the shop holds about the customer, as a JSON file."""
    data = customer_data_export(shop=shop, customer=customer)
    return _json_attachment(data, f"{shop.slug}-customer-{customer.pk}.json")


class MergeForm(forms.Form):
    """The merge confirmation: the other record and which of the two is kept."""

    keep = forms.ChoiceField(
        label=gettext_lazy("Keep"),
        choices=[(KEEP_THIS, KEEP_THIS), (KEEP_OTHER, KEEP_OTHER)],
        widget=forms.RadioSelect,
    )


def _other_customer(shop: Shop, customer: Customer, value: str) -> Customer | None:
    """Return the shop's customer named by the ``with`` parameter; 404 for any other id."""
    if not value:
        return None
    if not value.isdigit() or len(value) > 18:
        raise Http404(_("No such customer."))
    try:
        other = customer_get_for_shop(shop=shop, customer_id=int(value))
    except NotFound as exc:
        raise Http404(exc.message) from None
    if other.pk == customer.pk:
        raise Http404(_("No such customer."))
    return other


def _card(customer: Customer) -> dict:
    moved = merges.merge_preview(customer=customer)
    return {
        "customer": customer,
        "moved": [(MOVED_LABELS.get(label, label), count) for label, count in moved.items()],
    }


def _default_keep(customer: Customer, other: Customer) -> str:
    """Keep the record with an account when only one has one, else the page's own."""
    return KEEP_OTHER if other.account_id and not customer.account_id else KEEP_THIS


@shop_view(methods=("GET", "POST"))
def customer_merge_page(request: HttpRequest, shop: Shop, customer: Customer) -> HttpResponse:
    """Find the other record of the person, compare the two side by side, then merge them."""
    other = _other_customer(shop, customer, request.POST.get("with") or request.GET.get("with", ""))
    if other is None:
        query = request.GET.get("q", "").strip()[:100]
        candidates = (
            list(merges.merge_candidates(shop=shop, customer=customer, query=query))
            if query and not customer.erased_at
            else []
        )
        context = {
            "customer": customer,
            "customer_url": customer_page_url(shop, customer),
            "query": query,
            "candidates": candidates,
        }
        return dashboard_render(
            request, shop, "dashboard/customer_merge.html", context, section="customers"
        )
    status = 200
    if request.method == "POST":
        form = MergeForm(request.POST)
        if form.is_valid():
            keep_this = form.cleaned_data["keep"] == KEEP_THIS
            kept, merged = (customer, other) if keep_this else (other, customer)
            try:
                merges.customer_merge(shop=shop, source=merged, target=kept, actor=request.user)
            except KinfolkError as exc:
                form.add_error(None, exc.message)
                status = exc.status
            else:
                messages.success(
                    request,
                    _("%(merged)s was merged into this customer.")
                    % {"merged": merged.email or merged.name or f"#{merged.pk}"},
                )
                return redirect(customer_page_url(shop, kept))
        else:
            status = 400
    else:
        form = MergeForm(initial={"keep": _default_keep(customer, other)})
    context = {
        "customer": customer,
        "customer_url": customer_page_url(shop, customer),
        "other": other,
        "form": form,
        "keep": form["keep"].value(),
        "cards": [(KEEP_THIS, _card(customer)), (KEEP_OTHER, _card(other))],
    }
    return dashboard_render(
        request,
        shop,
        "dashboard/customer_merge_confirm.html",
        context,
        section="customers",
        status=status,
    )


class EraseForm(forms.Form):
    """Staff type the customer's address (or number) to show they mean this customer."""

    confirmation = forms.CharField(max_length=254, strip=True)

    def __init__(self, *args, expected: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.expected = expected
        field = self.fields["confirmation"]
        field.widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})
        field.label = _("Type %(value)s to confirm") % {"value": expected}

    def clean_confirmation(self) -> str:
        value = self.cleaned_data["confirmation"]
        if normalize_email(value) != normalize_email(self.expected):
            raise forms.ValidationError(
                _("This is not %(value)s. Type it exactly to erase this customer.")
                % {"value": self.expected}
            )
        return value


@shop_view(methods=("GET", "POST"))
def customer_erase_page(request: HttpRequest, shop: Shop, customer: Customer) -> HttpResponse:
    """Say what an erasure removes and keeps, and carry it out once staff confirm."""
    expected = customer.email or str(customer.pk)
    form = EraseForm(request.POST or None, expected=expected)
    status = 200
    if request.method == "POST":
        # An erased customer needs no confirmation: the service only says it is done already.
        if customer.erased_at or form.is_valid():
            try:
                customer_erase(shop=shop, customer=customer, requested_by=Erasure.RequestedBy.STAFF)
            except KinfolkError as exc:
                form.add_error(None, exc.message)
                status = exc.status
            else:
                messages.success(request, _("This customer's personal data was erased."))
                return redirect(customer_page_url(shop, customer))
        else:
            status = 400
    if form.errors:
        form.fields["confirmation"].widget.attrs.update({"aria-invalid": "true", "autofocus": True})
    context = {
        "customer": customer,
        "customer_url": customer_page_url(shop, customer),
        "form": form,
        "erasure": customer.erasures.first(),
    }
    return dashboard_render(
        request, shop, "dashboard/customer_erase.html", context, section="customers", status=status
    )
