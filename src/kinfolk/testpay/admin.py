"""Read-only back office for the simulated processor: what was charged and what was delivered."""

from django.contrib import admin

from kinfolk.testpay.models import CallbackAttempt, Charge


class CallbackAttemptInline(admin.TabularInline):
    model = CallbackAttempt
    extra = 0
    can_delete = False
    fields = ("attempted_at", "event_id", "status_code", "error")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Charge)
class ChargeAdmin(admin.ModelAdmin):
    list_display = ("id", "merchant_reference", "amount", "currency", "status", "created_at")
    list_filter = ("status", "currency")
    search_fields = ("=id", "merchant_reference", "event_id")
    date_hierarchy = "created_at"
    inlines = (CallbackAttemptInline,)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
