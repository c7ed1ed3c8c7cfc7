"""Background work of the CRM: stages, RFM scores, value and customer-share models kept current
as time passes."""

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


@db_periodic_task(crontab(hour="3", minute="50"))
def shop_values_refresh() -> int:
    """Every night, after the stages and RFM scores (03:20): refit every shop's value models and
    score its fans again (``crm.services.value``); a shop that fails does not stop the others."""
    import logging

    from kinfolk.crm.services.value import shop_value_refresh
    from kinfolk.shops.models import Shop

    shops = 0
    for shop in Shop.objects.order_by("pk").iterator():
        try:
            shop_value_refresh(shop=shop)
        except Exception:  # one shop's odd history must not cost the others their figures
            logging.getLogger(__name__).exception("value refresh failed for shop %s", shop.pk)
            continue
        shops += 1
    return shops


@db_periodic_task(crontab(hour="4", minute="20"))
def shop_shares_refresh() -> int:
    """Every night, after the value models (03:50): recompute every shop's customer-share model
    (``crm.services.share``) against the catalogue its app's registered provider gives; a shop
    that fails does not stop the others. Returns the shops refreshed."""
    import logging

    from kinfolk.crm.services.share import shop_share_refresh
    from kinfolk.shops.models import Shop

    logger = logging.getLogger(__name__)
    shops = 0
    for shop in Shop.objects.order_by("pk").iterator():
        try:
            snapshot = shop_share_refresh(shop=shop)
        except Exception:  # one shop's odd history must not cost the others their figures
            logger.exception("customer-share refresh failed for shop %s", shop.pk)
            continue
        if snapshot is None:
            logger.warning(
                "no catalogue provider is registered (crm.services.share."
                "share_catalogue_register): customer-share models are not refreshed"
            )
            return shops
        shops += 1
    return shops


@db_task()
def import_run_process(run_id: int, language: str = "") -> None:
    """Import an uploaded file (``crm.imports``), its rejections worded in ``language``.

    Not retried: a run that stopped says why, and importing the file again is safe (what was
    imported already is not imported twice).
    """
    from kinfolk.crm.imports.service import import_run_execute
    from kinfolk.crm.models import ImportRun

    run = (
        ImportRun.objects.select_related("shop")
        .filter(pk=run_id, status=ImportRun.Status.PENDING)
        .first()
    )
    if run is not None:
        import_run_execute(run=run, language=language)


@db_task(retries=5, retry_delay=60)
def consent_email_send_task(request_id: int) -> bool:
    """E-mail the confirmation link of a mailing-list request (double opt-in); a failure to send
    raises, and the queue runs it again a minute later (five times at most)."""
    from kinfolk.crm.services.consent import consent_email_send

    return consent_email_send(request_id=request_id)
