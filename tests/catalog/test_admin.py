"""Product edits in the admin go through the catalogue's service (the description is rendered
again), and stock is not editable there: orders change it with conditional writes."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kinfolk.catalog.models import Product, Variant

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client, make_user):
    client.force_login(make_user(is_staff=True, is_superuser=True))
    return client


def _form(product: Product, **changes) -> dict[str, str]:
    data = {
        "name": product.name,
        "slug": product.slug,
        "kind": product.kind,
        "status": product.status,
        "description": product.description,
        "position": str(product.position),
    }
    for prefix in ("variants", "images"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    data.update(changes)
    return data


def test_a_description_edited_in_the_admin_is_rendered_again(operator, product):
    url = reverse("admin:catalog_product_change", args=[product.pk])
    page = operator.get(url)
    assert page.status_code == 200

    response = operator.post(url, _form(product, description="Now **louder**"))

    assert response.status_code == 302, response.text[:3000]
    stored = Product.objects.get(pk=product.pk)
    assert stored.description == "Now **louder**"
    assert "<strong>louder</strong>" in stored.description_html


def test_stock_is_shown_but_not_editable_in_the_admin(operator, product):
    variant = product.variants.get()
    url = reverse("admin:catalog_product_change", args=[product.pk])

    page = operator.get(url).text
    operator.post(url, _form(product, **{"variants-0-stock": "999", "variants-0-id": variant.pk}))

    assert 'name="variants-0-stock"' not in page
    assert Variant.objects.get(pk=variant.pk).stock == variant.stock
