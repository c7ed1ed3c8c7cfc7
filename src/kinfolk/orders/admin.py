"""Orders in the platform operators' admin: for looking, not changing.

Every change of an order or a payment goes through the services (the dashboard), which keep the
state machine, the history and the CRM timeline; an edit here would bypass all of them.
"""

from django.contrib import admin

from kinfolk.core.admin import ReadOnlyAdminMixin, ReadOnlyInlineMixin
from kinfolk.orders.models import Order, OrderEvent, OrderLine, Payment, PaymentCallback


class OrderLineInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = OrderLine
    fields = ["product_name", "variant_name", "sku", "unit_price", "quantity", "shipped_quantity"]


class OrderEventInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = OrderEvent
    fields = ["from_status", "to_status", "actor_label", "note", "created_at"]


class PaymentInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = Payment
    fields = ["provider", "reference", "status", "amount", "currency", "created_at"]


@admin.register(Order)
class OrderAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["number", "shop", "email", "status", "total", "currency", "placed_at"]
    list_filter = ["shop", "status"]
    search_fields = ["number", "email"]
    list_select_related = ["shop"]
    inlines = [OrderLineInline, PaymentInline, OrderEventInline]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["order", "provider", "reference", "status", "amount", "currency"]
    list_filter = ["provider", "status"]
    list_select_related = ["order"]
    # Listed, so that the form behind the read-only page builds no URL field for it.
    readonly_fields = ["redirect_url"]


@admin.register(PaymentCallback)
class PaymentCallbackAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["provider", "event_id", "outcome", "received_at"]
    list_filter = ["provider", "outcome"]
