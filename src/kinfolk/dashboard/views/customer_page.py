"""One customer's page: who they are, their stage and why, scores and predicted value, dates,
tags, staff notes and the whole timeline; and the POSTs that add and remove notes, tags, dates.

Each POST calls one profile service; a refusal shows the page again with the message next to
the form and what staff typed, never a 500.
"""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.db.models.functions import Lower
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.loader import select_template
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kinfolk.core.errors import KinfolkError
from kinfolk.core.money import format_money
from kinfolk.crm.models import (
    STAGE_ORDER,
    Customer,
    CustomerDate,
    Interaction,
    Stage,
    StageChange,
    ValueModelFit,
)
from kinfolk.crm.selectors.customers import (
    customer_consent_latest,
    customer_timeline,
    interactions_by_id,
    shop_tags,
)
from kinfolk.crm.selectors.stages import customer_stage_history
from kinfolk.crm.services import profiles
from kinfolk.dashboard.customer_forms import (
    DateForm,
    DateRemoveForm,
    NoteForm,
    TagForm,
    TagRemoveForm,
    country_label,
)
from kinfolk.dashboard.forms import add_service_error, focus_first_error
from kinfolk.dashboard.views.access import dashboard_render, shop_view
from kinfolk.shops.models import Shop

STAGES = dict(Stage.choices)
SOURCES = dict(Interaction.Source.choices)
KINDS = dict(Interaction.Kind.choices)
DATE_KINDS = dict(CustomerDate.Kind.choices)
STAGE_HISTORY_SHOWN = 20


def stage_reason(change: StageChange | None) -> str:
    """Return why the customer is at their stage, in words a maker reads."""
    if change is None:
        return _("A known contact: the shop has their details. Nothing has moved them yet.")
    evidence = change.evidence if isinstance(change.evidence, dict) else {}
    count = _int(evidence.get("count"))
    values = {
        "count": count,
        "days": _int(evidence.get("window_days")),
        "threshold": _int(evidence.get("threshold")),
    }
    texts = {
        "known_contact": lambda: _("A known contact: the shop has their details."),
        "purchase": lambda: ngettext(
            "Bought: %(count)s paid order in the last %(days)s days.",
            "Bought: %(count)s paid orders in the last %(days)s days.",
            count,
        ),
        "returning": lambda: _(
            "Came back: active on %(count)s different days in the last %(days)s days "
            "(%(threshold)s needed)."
        ),
        "upload": lambda: ngettext(
            "Shared their own content: %(count)s upload in the last %(days)s days.",
            "Shared their own content: %(count)s uploads in the last %(days)s days.",
            count,
        ),
        "repeat_purchase": lambda: _(
            "Bought again: %(count)s paid orders in the last %(days)s days (%(threshold)s needed)."
        ),
        "two_way_contact": lambda: ngettext(
            "Two-way contact: replied or gave their important dates %(count)s time "
            "in the last %(days)s days.",
            "Two-way contact: replied or gave their important dates %(count)s times "
            "in the last %(days)s days.",
            count,
        ),
        "participation": lambda: _(
            "Takes part: %(count)s referrals, group joins, event sign-ups or posts in the "
            "last %(days)s days (%(threshold)s needed)."
        ),
    }
    text = texts[change.rule]() % values if change.rule in texts else change.rule
    if STAGE_ORDER.get(change.to_stage, 0) < STAGE_ORDER.get(change.from_stage, 0):
        moved = _(
            "Moved down from %(stage)s: what held them there is now older than its window."
        ) % {"stage": STAGES.get(change.from_stage, change.from_stage)}
        return f"{moved} {text}"
    return text


def _int(value) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _details(interaction: Interaction, shop: Shop) -> dict:
    """Return what a timeline row shows besides its kind: order, amount, items, note, stage."""
    data = interaction.data if isinstance(interaction.data, dict) else {}
    details: dict = {}
    if interaction.subject_type == "order" and interaction.subject_id:
        details["order_url"] = reverse(
            "dashboard:order", kwargs={"shop": shop.slug, "number": interaction.subject_id}
        )
    if interaction.subject_type in {"order"} or interaction.subject_type.endswith("_order"):
        details["order_number"] = interaction.subject_id
    # An order's total, or what a refund gave back.
    total, currency = data.get("total", data.get("amount")), data.get("currency")
    is_amount = isinstance(total, int) and not isinstance(total, bool)
    if is_amount and isinstance(currency, str) and len(currency) == 3:
        try:
            details["total"] = format_money(total, currency)
        except KinfolkError:
            pass
    items = data.get("items")
    if isinstance(items, list):
        details["bought"] = [
            {"quantity": _int(item.get("quantity")) or 1, "name": str(item.get("name", ""))[:200]}
            for item in items[:20]
            if isinstance(item, dict) and item.get("name")
        ]
    if interaction.kind == Interaction.Kind.NOTE:
        details["text"] = str(data.get("text", ""))
        details["by"] = str(data.get("by", ""))
    if interaction.kind == Interaction.Kind.STAGE_CHANGED:
        details["from"] = STAGES.get(data.get("from"), "")
        details["to"] = STAGES.get(data.get("to"), "")
    if interaction.kind == Interaction.Kind.DATES_GIVEN and data.get("kind") in DATE_KINDS:
        details["date_kind"] = DATE_KINDS[data["kind"]]
    if isinstance(data.get("subject"), str):
        details["subject"] = data["subject"][:200]
    return details


def timeline_rows(interactions: list[Interaction], shop: Shop) -> list[dict]:
    """Return the timeline rows with their labels and details."""
    return [
        {
            "interaction": interaction,
            "what": KINDS.get(interaction.kind, interaction.kind),
            "source": SOURCES.get(interaction.source, interaction.source),
            **_details(interaction, shop),
        }
        for interaction in interactions
    ]


def _value(customer: Customer) -> dict:
    """Return the customer's scores and predicted value, and whether the figures are a fallback."""
    score = getattr(customer, "score", None)
    predicted = score is not None and score.clv is not None
    methods = dict(ValueModelFit.Method.choices)
    return {
        "score": score,
        "predicted": predicted,
        "fallback": predicted and score.value_method not in ("", ValueModelFit.Method.MODEL),
        "method": methods.get(score.value_method, "") if predicted else "",
        "p_alive_percent": round(score.p_alive * 100) if predicted and score.p_alive else 0,
    }


def _customer_page(
    request: HttpRequest,
    shop: Shop,
    customer: Customer,
    *,
    failed: str = "",
    form: forms.Form | None = None,
    status: int = 200,
) -> HttpResponse:
    """Render the customer; ``failed`` names the form (note, tag, date) whose ``form`` failed."""
    focus_first_error(form)
    changes = list(customer_stage_history(shop=shop, customer=customer))
    latest = changes[-1] if changes else None
    evidence = (
        interactions_by_id(shop=shop, customer=customer, ids=list(latest.interaction_ids))
        if latest and isinstance(latest.interaction_ids, list)
        else {}
    )
    history = changes[-STAGE_HISTORY_SHOWN:]
    timeline = customer_timeline(shop=shop, customer=customer, older_than=request.GET.get("older"))
    forms_ = {"note": NoteForm(), "tag": TagForm(), "date": DateForm()}
    if failed:
        forms_[failed] = form
    context = {
        "customer": customer,
        "country": country_label(customer.country) if customer.country else "",
        "consent": customer_consent_latest(shop=shop, customer=customer),
        "stage_label": STAGES.get(customer.stage, customer.stage),
        "stage_reason": stage_reason(latest),
        "stage_change": latest,
        "evidence": sorted(evidence.values(), key=lambda row: (row.occurred_at, row.pk)),
        "history": [
            {
                "change": change,
                "from": STAGES.get(change.from_stage),
                "to": STAGES.get(change.to_stage),
            }
            for change in reversed(history)
        ],
        **_value(customer),
        "dates": list(customer.dates.filter(shop=shop)),
        "tags": list(customer.tags.filter(shop=shop).order_by(Lower("name"))),
        "shop_tags": list(shop_tags(shop=shop).values_list("name", flat=True)[:500]),
        "timeline": timeline_rows(timeline.interactions, shop),
        "older_url": f"?older={timeline.older_cursor}#timeline" if timeline.older_cursor else "",
        "timeline_is_first_page": not request.GET.get("older"),
        "forms": forms_,
        "failed": failed,
        "privacy_template": select_template(
            ["dashboard/_customer_privacy_actions.html", "dashboard/_empty.html"]
        ),
    }
    return dashboard_render(
        request, shop, "dashboard/customer.html", context, section="customers", status=status
    )


@shop_view()
def customer_detail(request: HttpRequest, shop: Shop, customer: Customer) -> HttpResponse:
    """One customer: profile, stage and why, value, dates, tags, notes and timeline."""
    return _customer_page(request, shop, customer)


def _act(
    request: HttpRequest,
    shop: Shop,
    customer: Customer,
    *,
    name: str,
    form: forms.Form,
    call: Callable[[dict], object],
    done: str,
    anchor: str,
) -> HttpResponse:
    """Validate ``form`` and run one service through ``call``; on success back to the page."""
    if form.is_valid():
        try:
            call(form.cleaned_data)
        except KinfolkError as exc:
            add_service_error(form, exc)
            return _customer_page(
                request, shop, customer, failed=name, form=form, status=exc.status
            )
        messages.success(request, done)
        url = reverse("dashboard:customer", kwargs={"shop": shop.slug, "customer_id": customer.pk})
        return redirect(f"{url}#{anchor}")
    return _customer_page(request, shop, customer, failed=name, form=form, status=400)


@shop_view(methods=("POST",))
def customer_note_add(request: HttpRequest, shop: Shop, customer: Customer) -> HttpResponse:
    return _act(
        request,
        shop,
        customer,
        name="note",
        form=NoteForm(request.POST),
        call=lambda data: profiles.customer_note_add(
            shop=shop, customer=customer, text=data["text"], by=request.user
        ),
        done=_("The note is on the timeline."),
        anchor="timeline",
    )


@shop_view(methods=("POST",))
def customer_tag_add(request: HttpRequest, shop: Shop, customer: Customer) -> HttpResponse:
    return _act(
        request,
        shop,
        customer,
        name="tag",
        form=TagForm(request.POST),
        call=lambda data: profiles.customer_tag_add(
            shop=shop, customer=customer, name=data["name"]
        ),
        done=_("Tag added."),
        anchor="tags",
    )


@shop_view(methods=("POST",))
def customer_tag_remove(request: HttpRequest, shop: Shop, customer: Customer) -> HttpResponse:
    return _act(
        request,
        shop,
        customer,
        name="tag_remove",
        form=TagRemoveForm(request.POST),
        call=lambda data: profiles.customer_tag_remove(
            shop=shop, customer=customer, tag_id=data["tag_id"]
        ),
        done=_("Tag removed."),
        anchor="tags",
    )


@shop_view(methods=("POST",))
def customer_date_add(request: HttpRequest, shop: Shop, customer: Customer) -> HttpResponse:
    return _act(
        request,
        shop,
        customer,
        name="date",
        form=DateForm(request.POST),
        call=lambda data: profiles.customer_date_add(
            shop=shop,
            customer=customer,
            kind=data["kind"],
            label=data["label"],
            month=data["month"],
            day=data["day"],
            year=data["year"],
        ),
        done=_("Date added."),
        anchor="dates",
    )


@shop_view(methods=("POST",))
def customer_date_delete(request: HttpRequest, shop: Shop, customer: Customer) -> HttpResponse:
    return _act(
        request,
        shop,
        customer,
        name="date_remove",
        form=DateRemoveForm(request.POST),
        call=lambda data: profiles.customer_date_remove(
            shop=shop, customer=customer, date_id=data["date_id"]
        ),
        done=_("Date removed."),
        anchor="dates",
    )
