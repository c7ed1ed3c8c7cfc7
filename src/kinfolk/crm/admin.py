from django.contrib import admin

from kinfolk.crm.models import Customer, CustomerScore, Interaction, StageChange


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["email", "name", "shop", "account", "stage", "created_at"]
    list_filter = ["shop", "stage"]
    search_fields = ["email", "name"]
    raw_id_fields = ["account"]
    # The stage follows the timeline (crm.services.stages); it is never set by hand.
    readonly_fields = ["stage", "stage_changed_at"]


@admin.register(Interaction)
class InteractionAdmin(admin.ModelAdmin):
    list_display = ["kind", "customer", "shop", "occurred_at", "source"]
    list_filter = ["shop", "kind"]
    raw_id_fields = ["customer"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows derived from the timeline: shown, never written here."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(StageChange)
class StageChangeAdmin(ReadOnlyAdmin):
    list_display = ["customer", "from_stage", "to_stage", "rule", "changed_at", "trigger"]
    list_filter = ["shop", "to_stage", "rule"]
    raw_id_fields = ["customer"]


@admin.register(CustomerScore)
class CustomerScoreAdmin(ReadOnlyAdmin):
    list_display = ["customer", "segment", "rfm", "frequency", "monetary", "last_purchase_at"]
    list_filter = ["shop", "segment"]
    raw_id_fields = ["customer"]
