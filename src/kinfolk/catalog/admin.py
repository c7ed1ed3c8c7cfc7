"""The catalogue in the platform operators' admin.

Product edits go through ``product_update`` (which renders the description and checks the
fields); variants and their stock are shown read-only, since orders change stock with
conditional writes that an admin form would overwrite. Products are created in the dashboard.
"""

from django.contrib import admin

from kinfolk.catalog.models import Product, ProductImage, Variant
from kinfolk.catalog.services import product_update
from kinfolk.core.admin import ReadOnlyInlineMixin


class VariantInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = Variant
    fields = ["sku", "name", "price", "stock", "position"]


class ProductImageInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = ProductImage
    fields = ["image", "alt", "position"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "shop", "kind", "status"]
    list_filter = ["shop", "kind", "status"]
    list_select_related = ["shop"]
    search_fields = ["name", "slug"]
    fields = ["shop", "name", "slug", "kind", "status", "description", "position"]
    readonly_fields = ["shop"]
    inlines = [VariantInline, ProductImageInline]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj: Product, form, change: bool) -> None:
        changed = {name: form.cleaned_data[name] for name in form.changed_data}
        product_update(shop=obj.shop, product=obj, **changed)
