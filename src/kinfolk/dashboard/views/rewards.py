"""The shop's rewards for word of mouth: rules ("3 friends download → a bonus track"), the
attribution window, and the rewards given.

Every POST calls one service of ``referrals.rewards``; a refusal shows the form again with the
message next to its field and everything staff typed.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from kinfolk.core.errors import KinfolkError
from kinfolk.dashboard.forms import add_service_error, focus_first_error
from kinfolk.dashboard.reward_forms import RewardRuleForm, WindowForm
from kinfolk.dashboard.views.access import dashboard_render, shop_view
from kinfolk.referrals.models import RewardRule
from kinfolk.referrals.rewards import (
    referral_settings_update,
    reward_rule_create,
    reward_rule_set_active,
    reward_rule_update,
)
from kinfolk.referrals.selectors import (
    releases_for_rewards,
    reward_grants_for_shop,
    reward_rules_for_shop,
)
from kinfolk.referrals.services import window_days_of
from kinfolk.shops.models import Shop

SECTION = "rewards"


def _render(request, shop, template, context, *, status=200) -> HttpResponse:
    return dashboard_render(request, shop, template, context, section=SECTION, status=status)


def _list(request: HttpRequest, shop: Shop, *, window_form=None, status=200) -> HttpResponse:
    context = {
        "rules": reward_rules_for_shop(shop=shop),
        "grants": reward_grants_for_shop(shop=shop),
        "window_form": window_form or WindowForm(initial={"window_days": window_days_of(shop)}),
    }
    return _render(request, shop, "dashboard/rewards.html", context, status=status)


@shop_view()
def reward_list(request: HttpRequest, shop: Shop) -> HttpResponse:
    """The shop's reward rules, its attribution window and the latest rewards given."""
    return _list(request, shop)


@shop_view(methods=("POST",))
def reward_window(request: HttpRequest, shop: Shop) -> HttpResponse:
    """Set the attribution window."""
    form = WindowForm(request.POST)
    if form.is_valid():
        try:
            referral_settings_update(shop=shop, window_days=form.cleaned_data["window_days"])
        except KinfolkError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Saved: visits through share links count that long."))
            return redirect("dashboard:rewards", shop=shop.slug)
    return _list(request, shop, window_form=form, status=400)


def _rule_form(request: HttpRequest, shop: Shop, initial: dict) -> RewardRuleForm:
    return RewardRuleForm(
        request.POST if request.method == "POST" else None,
        releases=releases_for_rewards(shop=shop),
        initial=initial,
    )


@shop_view(methods=("GET", "POST"))
def reward_new(request: HttpRequest, shop: Shop) -> HttpResponse:
    """A new reward rule."""
    form = _rule_form(request, shop, {"reward": RewardRule.Reward.DISCOUNT, "active": True})
    if request.method == "POST" and form.is_valid():
        try:
            rule = reward_rule_create(shop=shop, **form.rule_fields())
        except KinfolkError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("The reward %(name)s is on.") % {"name": rule.name})
            return redirect("dashboard:rewards", shop=shop.slug)
    focus_first_error(form if form.is_bound else None)
    status = 400 if form.is_bound else 200
    return _render(request, shop, "dashboard/reward_form.html", {"form": form}, status=status)


@shop_view(methods=("GET", "POST"))
def reward_edit(request: HttpRequest, shop: Shop, rule: RewardRule) -> HttpResponse:
    """Change a reward rule (rewards already given stay given)."""
    initial = {
        "name": rule.name,
        "event": rule.event,
        "threshold": rule.threshold,
        "reward": rule.reward,
        "release": rule.release_id,
        "discount_percent": rule.discount_percent,
        "active": rule.active,
    }
    form = _rule_form(request, shop, initial)
    if request.method == "POST" and form.is_valid():
        try:
            reward_rule_update(
                shop=shop, rule=rule, active=form.cleaned_data["active"], **form.rule_fields()
            )
        except KinfolkError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("dashboard:rewards", shop=shop.slug)
    focus_first_error(form if form.is_bound else None)
    status = 400 if form.is_bound else 200
    context = {"form": form, "rule": rule}
    return _render(request, shop, "dashboard/reward_form.html", context, status=status)


@shop_view(methods=("POST",))
def reward_active(request: HttpRequest, shop: Shop, rule: RewardRule) -> HttpResponse:
    """Stop giving a rule's reward, or start again."""
    active = request.POST.get("active") == "1"
    reward_rule_set_active(shop=shop, rule=rule, active=active)
    if active:
        messages.success(request, _("%(name)s can be earned again.") % {"name": rule.name})
    else:
        messages.success(
            request,
            _("%(name)s is off: no fan earns it any more; rewards given stay.")
            % {"name": rule.name},
        )
    return redirect("dashboard:rewards", shop=shop.slug)
