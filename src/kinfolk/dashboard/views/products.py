"""The shop's catalogue: every product in any status, a product's page with its variants and images.

Each POST calls one catalogue service; its errors go next to the fields, with what staff typed.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from kinfolk.catalog import services
from kinfolk.catalog.models import Product, Variant
from kinfolk.catalog.selectors import product_get_for_staff, products_for_staff
from kinfolk.core.errors import KinfolkError
from kinfolk.dashboard.forms import (
    ImageForm,
    ProductCreateForm,
    ProductForm,
    VariantForm,
    add_service_error,
    focus_first_error,
)
from kinfolk.dashboard.selectors import product_status_counts
from kinfolk.dashboard.views.access import dashboard_render, shop_view
from kinfolk.shops.models import Shop

STATUS_LABELS = dict(Product.Status.choices)


def _row(product: Product) -> dict:
    variants = list(product.variants.all())
    prices = [variant.price for variant in variants]
    unlimited = any(variant.stock is None for variant in variants)
    images = list(product.images.all())
    return {
        "product": product,
        "variants": len(variants),
        "price_min": min(prices, default=None),
        "price_max": max(prices, default=None),
        "stock": None if unlimited else sum(variant.stock for variant in variants),
        "image": images[0] if images else None,
    }


@shop_view()
def product_list(request: HttpRequest, shop: Shop) -> HttpResponse:
    """Every product of the shop with its kind, status, prices and stock; filter by status."""
    status = request.GET.get("status", "")
    if status not in STATUS_LABELS:
        status = ""
    counts = product_status_counts(shop=shop)
    tabs = [("", _("All"), counts[""])] + [
        (value, label, counts[value]) for value, label in Product.Status.choices
    ]
    rows = [_row(product) for product in products_for_staff(shop=shop, status=status or None)]
    context = {"rows": rows, "tabs": tabs, "status": status}
    return dashboard_render(request, shop, "dashboard/products.html", context, section="products")


@shop_view(methods=("GET", "POST"))
def product_new(request: HttpRequest, shop: Shop) -> HttpResponse:
    """A new product with its first variant."""
    form = ProductCreateForm(
        request.POST if request.method == "POST" else None,
        currency=shop.currency,
        initial={"kind": Product.Kind.PHYSICAL, "status": Product.Status.DRAFT},
    )
    if request.method == "POST" and form.is_valid():
        try:
            product = services.product_create(shop=shop, **form.create_arguments())
        except KinfolkError as exc:
            add_service_error(form, exc)
        except IntegrityError:
            form.add_error(None, _("Another product already uses this address or SKU."))
        else:
            messages.success(request, _("%(name)s is created.") % {"name": product.name})
            return redirect("dashboard:product_edit", shop=shop.slug, product_id=product.pk)
    status = 400 if form.is_bound else 200
    focus_first_error(form if form.is_bound else None)
    context = {"form": form}
    return dashboard_render(
        request, shop, "dashboard/product_new.html", context, section="products", status=status
    )


def _product_page(
    request: HttpRequest,
    shop: Shop,
    product: Product,
    *,
    product_form: forms.Form | None = None,
    variant_form: tuple[Variant | None, forms.Form] | None = None,
    image_form: forms.Form | None = None,
    status: int = 200,
) -> HttpResponse:
    """Render the product page; a bound form passed in replaces the blank one in its place."""
    if status != 200:
        # A refused service may have changed the object in memory; show what is stored.
        product = product_get_for_staff(shop=shop, product_id=product.pk)
    failed_variant, failed_form = variant_form or (None, None)
    for form in (product_form, failed_form, image_form):
        focus_first_error(form)
    variant_rows = []
    for variant in product.variants.all():
        if failed_variant is not None and failed_variant.pk == variant.pk:
            if failed_form.stock_seen_stale:
                failed_form.show_stock_now(variant.stock)
            variant_rows.append((variant, failed_form))
        else:
            variant_rows.append((variant, VariantForm.for_variant(variant, currency=shop.currency)))
    new_variant_form = (
        failed_form
        if variant_form and failed_variant is None
        else VariantForm(currency=shop.currency, prefix="new")
    )
    context = {
        "product": product,
        "form": product_form or ProductForm.for_product(product),
        "variant_rows": variant_rows,
        "new_variant_form": new_variant_form,
        "image_form": image_form or ImageForm(),
        "images": list(product.images.all()),
    }
    return dashboard_render(
        request, shop, "dashboard/product_edit.html", context, section="products", status=status
    )


@shop_view(methods=("GET", "POST"))
def product_edit(request: HttpRequest, shop: Shop, product: Product) -> HttpResponse:
    """The product's page; a POST saves its name, address, kind, status and description."""
    if request.method != "POST":
        return _product_page(request, shop, product)
    form = ProductForm.for_product(product, data=request.POST)
    if form.is_valid():
        try:
            services.product_update(shop=shop, product=product, **form.product_fields())
        except KinfolkError as exc:
            add_service_error(form, exc)
        except IntegrityError:
            form.add_error("slug", _("Another product already uses this address."))
        else:
            messages.success(request, _("%(name)s is saved.") % {"name": product.name})
            return redirect("dashboard:product_edit", shop=shop.slug, product_id=product.pk)
    return _product_page(request, shop, product, product_form=form, status=400)


def _save_variant(
    request: HttpRequest, shop: Shop, product: Product, variant: Variant | None
) -> HttpResponse:
    if variant is None:
        form = VariantForm(request.POST, currency=shop.currency, prefix="new")
    else:
        form = VariantForm.for_variant(variant, currency=shop.currency, data=request.POST)
    if form.is_valid():
        try:
            if variant is None:
                services.variant_create(shop=shop, product=product, **form.variant_fields())
            else:
                services.variant_update(
                    shop=shop,
                    variant=variant,
                    stock_seen=form.seen_stock(),
                    **form.variant_fields(),
                )
        except KinfolkError as exc:
            add_service_error(form, exc)
            form.stock_seen_stale = exc.code == "stock_changed"
        except IntegrityError:
            form.add_error("sku", _("Another variant already uses this SKU."))
        else:
            done = _("The variant is added.") if variant is None else _("The variant is saved.")
            messages.success(request, done)
            return redirect("dashboard:product_edit", shop=shop.slug, product_id=product.pk)
    return _product_page(request, shop, product, variant_form=(variant, form), status=400)


@shop_view(methods=("POST",))
def variant_new(request: HttpRequest, shop: Shop, product: Product) -> HttpResponse:
    """Add a variant to the product."""
    return _save_variant(request, shop, product, None)


@shop_view(methods=("POST",))
def variant_edit(
    request: HttpRequest, shop: Shop, product: Product, variant: Variant
) -> HttpResponse:
    """Save a variant's SKU, option, price and stock."""
    return _save_variant(request, shop, product, variant)


@shop_view(methods=("POST",))
def product_image_add(request: HttpRequest, shop: Shop, product: Product) -> HttpResponse:
    """Upload an image of the product (the service decodes it to prove it is one)."""
    form = ImageForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.product_image_add(
                shop=shop,
                product=product,
                upload=form.cleaned_data["image"],
                alt=form.cleaned_data["alt"].strip(),
            )
        except KinfolkError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("The image is added."))
            return redirect("dashboard:product_edit", shop=shop.slug, product_id=product.pk)
    return _product_page(request, shop, product, image_form=form, status=400)
