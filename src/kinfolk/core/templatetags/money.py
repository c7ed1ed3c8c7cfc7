"""``{{ amount|money:currency }}`` formats integer minor units in the active language."""

from django import template

from kinfolk.core.money import format_money

register = template.Library()


@register.filter(name="money")
def money_filter(amount: int | None, currency: str) -> str:
    if amount is None:
        return ""
    return format_money(int(amount), currency)
