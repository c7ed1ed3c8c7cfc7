"""Background work of the CRM: stages and RFM scores kept current as time passes."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task


@db_task(retries=2, retry_delay=60)
def shop_stages_recompute(shop_id: int) -> dict[str, int]:
    """Recompute one shop's stages (after its rules changed)."""
    from kinfolk.crm.services import stages_recompute
    from kinfolk.shops.models import Shop

    return stages_recompute(shop=Shop.objects.get(pk=shop_id))


@db_task(retries=3, retry_delay=10)
def customer_stage_update(shop_id: int, customer_id: int) -> None:
    """Bring one customer's stage up to date with their timeline (after an order event)."""
    from kinfolk.crm.models import Customer
    from kinfolk.crm.services import stage_update_for

    customer = (
        Customer.objects.select_related("shop").filter(pk=customer_id, shop_id=shop_id).first()
    )
    if customer is not None:
        stage_update_for(shop=customer.shop, customer=customer)


@db_periodic_task(crontab(hour="3", minute="20"))
def stages_and_scores_refresh() -> int:
    """Every night: recompute every shop's stages and RFM scores.

    Events move stages up as they arrive; only the passing of time moves a fan who drifted away
    down, and the scores are relative to every other customer of the shop.
    """
    from kinfolk.crm.services import rfm_recompute, stages_recompute
    from kinfolk.shops.models import Shop

    shops = 0
    for shop in Shop.objects.order_by("pk").iterator():
        stages_recompute(shop=shop)
        rfm_recompute(shop=shop)
        shops += 1
    return shops
