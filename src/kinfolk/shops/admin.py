from django.contrib import admin

from kinfolk.shops.models import Membership, ShippingZone, Shop


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


class ShippingZoneInline(admin.TabularInline):
    model = ShippingZone
    extra = 0


@admin.register(Shop)
class ShopAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "currency", "time_zone", "country", "is_active"]
    search_fields = ["name", "slug"]
    inlines = [MembershipInline, ShippingZoneInline]
