from django.contrib import admin

from kinfolk.catalog.models import Product, ProductImage, Variant


class VariantInline(admin.TabularInline):
    model = Variant
    extra = 0
    fields = ["sku", "name", "price", "stock", "position"]


class ProductImageInline(admin.TabularInline):
    model = ProductImage
    extra = 0
    fields = ["image", "alt", "position"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "shop", "kind", "status"]
    list_filter = ["shop", "kind", "status"]
    search_fields = ["name", "slug"]
    inlines = [VariantInline, ProductImageInline]
