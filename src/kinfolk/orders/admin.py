from django.contrib import admin

from kinfolk.orders.models import Order, OrderEvent, OrderLine, Payment, PaymentCallback


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    readonly_fields = ["product_name", "variant_name", "sku", "unit_price", "quantity"]


class OrderEventInline(admin.TabularInline):
    model = OrderEvent
    extra = 0
    readonly_fields = ["from_status", "to_status", "actor_label", "note", "created_at"]


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["number", "shop", "email", "status", "total", "currency", "placed_at"]
    list_filter = ["shop", "status"]
    search_fields = ["number", "email"]
    raw_id_fields = ["customer", "account"]
    inlines = [OrderLineInline, OrderEventInline]


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = ["order", "provider", "reference", "status", "amount", "currency"]
    list_filter = ["provider", "status"]


@admin.register(PaymentCallback)
class PaymentCallbackAdmin(admin.ModelAdmin):
    list_display = ["provider", "event_id", "outcome", "received_at"]
