"""Read-only back office for the simulated processor: what was charged, refunded and delivered.

One action changes something, as a processor's test console does: reopening a closed card, so
that refunds to it go through again.
"""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from kinfolk.core.admin import ReadOnlyAdminMixin, ReadOnlyInlineMixin
from kinfolk.testpay import services
from kinfolk.testpay.models import CallbackAttempt, Charge, Refund


class CallbackAttemptInline(admin.TabularInline):
    model = CallbackAttempt
    extra = 0
    can_delete = False
    fields = ("attempted_at", "event_id", "status_code", "error")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class RefundInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = Refund
    fields = ("created_at", "amount", "status", "failure_reason", "attempts", "idempotency_key")
    readonly_fields = fields


@admin.register(Charge)
class ChargeAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "merchant_reference",
        "amount",
        "amount_refunded",
        "currency",
        "status",
        "card_closed",
        "created_at",
    )
    list_filter = ("status", "currency", "card_closed")
    search_fields = ("=id", "merchant_reference", "event_id")
    date_hierarchy = "created_at"
    inlines = (RefundInline, CallbackAttemptInline)
    actions = ("reopen_cards",)
    # Listed, so that the form behind the read-only page builds no URL fields for them.
    readonly_fields = ("callback_url", "return_url")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description=_("Reopen the card (refunds to it go through again)"))
    def reopen_cards(self, request, queryset) -> None:
        count = 0
        for charge_id in queryset.filter(card_closed=True).values_list("pk", flat=True):
            services.charge_card_reopen(charge_id=charge_id)
            count += 1
        self.message_user(
            request,
            ngettext("%(count)d card reopened.", "%(count)d cards reopened.", count)
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "charge", "amount", "currency", "status", "failure_reason", "created_at")
    list_filter = ("status", "failure_reason", "currency")
    search_fields = ("=id", "=charge__id", "idempotency_key")
    date_hierarchy = "created_at"
    list_select_related = ("charge",)
