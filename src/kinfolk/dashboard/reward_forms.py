"""Forms of the dashboard's rewards page: they parse what staff type; the services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kinfolk.referrals.models import MAX_WINDOW_DAYS, ReferralCredit, RewardRule
from kinfolk.referrals.rewards import MAX_DISCOUNT_PERCENT, MAX_THRESHOLD


class RewardRuleForm(forms.Form):
    """A reward rule: when friends do what, how many of them, and the reward."""

    name = forms.CharField(
        label=_("Name"),
        max_length=120,
        help_text=_("Fans see it on their progress page, e.g. “Bonus track for 3 friends”."),
    )
    event = forms.ChoiceField(
        label=_("When friends"), choices=ReferralCredit.Kind.choices, initial="download"
    )
    threshold = forms.IntegerField(
        label=_("How many friends"), min_value=1, max_value=MAX_THRESHOLD, initial=3
    )
    reward = forms.ChoiceField(
        label=_("Reward"), choices=RewardRule.Reward.choices, widget=forms.RadioSelect
    )
    release = forms.TypedChoiceField(
        label=_("Bonus release"), required=False, coerce=int, empty_value=None
    )
    discount_percent = forms.IntegerField(
        label=_("Discount (%)"),
        required=False,
        min_value=1,
        max_value=MAX_DISCOUNT_PERCENT,
        help_text=_(
            "Off the fan's next order (the products, not shipping); one use; at most 90 %."
        ),
    )
    active = forms.BooleanField(label=_("Active: fans can earn it"), required=False, initial=True)

    def __init__(self, *args, releases=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.releases = {release.pk: release for release in releases}
        self.fields["release"].choices = [("", _("Choose a release"))] + [
            (release.pk, release.product.name) for release in releases
        ]
        if not releases:
            self.fields["release"].help_text = _("Add a release first to give it as a bonus.")

    def rule_fields(self) -> dict:
        """Return the cleaned values as the rule services take them."""
        data = self.cleaned_data
        return {
            "name": data["name"],
            "event": data["event"],
            "threshold": data["threshold"],
            "reward": data["reward"],
            "release": self.releases.get(data["release"]) if data["release"] else None,
            "discount_percent": data["discount_percent"],
        }


class WindowForm(forms.Form):
    """How long a visit through a share link counts."""

    window_days = forms.IntegerField(
        label=_("Days a visit through a share link counts"),
        min_value=1,
        max_value=MAX_WINDOW_DAYS,
        help_text=_(
            "A visitor who arrives through a fan's link and signs up, downloads or buys within "
            "this many days is credited to that fan (the first link they followed wins)."
        ),
    )
