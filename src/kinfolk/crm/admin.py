from django.contrib import admin

from kinfolk.crm.models import Customer, Interaction


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["email", "name", "shop", "account", "created_at"]
    list_filter = ["shop"]
    search_fields = ["email", "name"]
    raw_id_fields = ["account"]


@admin.register(Interaction)
class InteractionAdmin(admin.ModelAdmin):
    list_display = ["kind", "customer", "shop", "occurred_at", "source"]
    list_filter = ["shop", "kind"]
    raw_id_fields = ["customer"]
