"""Payment providers behind one interface; ``settings.PAYMENT_PROVIDERS`` lists the enabled ones."""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from kinfolk.core.errors import InvalidInput
from kinfolk.orders.payments.base import CallbackEvent, PaymentProvider, RefundResult

__all__ = ["CallbackEvent", "PaymentProvider", "RefundResult", "enabled_providers", "get_provider"]

DEFAULT_PROVIDERS = [
    "kinfolk.orders.payments.testpay.TestpayProvider",
    "kinfolk.orders.payments.manual.ManualProvider",
]


@lru_cache(maxsize=1)
def _providers() -> dict[str, PaymentProvider]:
    paths = getattr(settings, "PAYMENT_PROVIDERS", DEFAULT_PROVIDERS)
    providers = [import_string(path)() for path in paths]
    return {provider.code: provider for provider in providers}


def enabled_providers() -> list[PaymentProvider]:
    """Return the providers a fan can choose at checkout, in the configured order."""
    return list(_providers().values())


def get_provider(code: str) -> PaymentProvider:
    """Return the provider ``code`` or raise InvalidInput."""
    try:
        return _providers()[code]
    except KeyError:
        raise InvalidInput(_("Choose a way to pay."), field="payment_provider") from None
