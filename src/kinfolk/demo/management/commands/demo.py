"""``kinfolk demo``: build two demo shops with products, staff, a fan and three years of orders.

Safe to run again: whatever an earlier run made is kept and nothing is made twice.
"""

from __future__ import annotations

import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kinfolk.core import clock
from kinfolk.crm.services import rfm_recompute, stages_recompute
from kinfolk.crm.services.share import shop_share_refresh
from kinfolk.crm.services.value import shop_value_refresh
from kinfolk.demo.catalogue import SHOPS
from kinfolk.demo.drops import drops_build
from kinfolk.demo.history import history_build, history_exists, refunds_fill
from kinfolk.demo.logins import logins_text
from kinfolk.demo.releases import releases_build
from kinfolk.demo.shops import demo_variants, logins_build, shop_build
from kinfolk.demo.timeline import ShopContext
from kinfolk.orders.models import Order
from kinfolk.shops.models import Shop

LOGINS_FILE = "demo-logins.txt"


def _non_negative(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = (
        "Build the demo shops (an indie band and a drone workshop) with products, staff "
        "logins, a fan account and three years of fans and orders. Running it again adds "
        "nothing (--fans and --orders apply to the first run)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--fans", type=_non_negative, default=2000, help="fans to make up (default: 2000)"
        )
        parser.add_argument(
            "--orders",
            type=_non_negative,
            default=10000,
            help="past orders to make up, about (default: 10000)",
        )
        parser.add_argument(
            "--seed", type=int, default=2718, help="random seed of the history (default: 2718)"
        )

    def handle(self, *args, fans: int, orders: int, seed: int, **options) -> None:
        started = time.monotonic()
        self._migrate()
        logins = logins_build(SHOPS)
        shops = [
            shop_build(spec, owner=logins.owners[spec.slug], staff=logins.staff) for spec in SHOPS
        ]
        if history_exists(shops):
            # A history built before refunds were recorded gets its refunded orders' refunds.
            filled = refunds_fill(shops=shops, now=clock.now())
            if filled:
                self.stdout.write(
                    ngettext(
                        "The demo history is already there; recorded the refund of %(count)d "
                        "refunded order.",
                        "The demo history is already there; recorded the refunds of %(count)d "
                        "refunded orders.",
                        filled,
                    )
                    % {"count": filled}
                )
            else:
                self.stdout.write(_("The demo history is already there; nothing to add."))
        else:
            stats = history_build(
                contexts=self._contexts(shops, logins),
                fans=fans,
                orders=orders,
                seed=seed,
                fan=logins.fan,
                now=clock.now(),
            )
            self.stdout.write(
                _(
                    "Made %(fans)d fans (%(customers)d customer records, %(accounts)d with an "
                    "account), %(orders)d orders and %(interactions)d timeline entries."
                )
                % stats.__dict__
            )
            # The history is bulk-inserted without the per-event stage updates: place every
            # fan in their stage, score them and predict their value once, as the nightly
            # tasks would.
            for shop in shops:
                stages_recompute(shop=shop)
                rfm_recompute(shop=shop)
                shop_value_refresh(shop=shop)
                shop_share_refresh(shop=shop)
        downloads = releases_build(shops=shops, now=clock.now(), seed=seed)
        if downloads:
            self.stdout.write(
                _("Made the band's releases with %(downloads)d downloads.")
                % {"downloads": downloads}
            )
        edition = drops_build(shops=shops, now=clock.now())
        if edition is not None:
            self.stdout.write(
                _("Opened the band's drop: %(size)d numbered copies of %(name)s.")
                % {"size": edition.size, "name": edition.product.name}
            )
        text = logins_text(shops=shops, logins=logins)
        path = Path(settings.DATA_DIR) / LOGINS_FILE
        path.write_text(text + "\n", encoding="utf-8")
        self.stdout.write(
            _("Done in %(seconds).1f s; the logins are also in %(path)s.")
            % {"seconds": time.monotonic() - started, "path": path}
        )
        self.stdout.write("")
        self.stdout.write(text)

    def _migrate(self) -> None:
        """Apply pending migrations, so the demo also works on a fresh data folder."""
        connection = connections[DEFAULT_DB_ALIAS]
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            call_command("migrate", interactive=False, verbosity=0)

    def _contexts(self, shops: list[Shop], logins) -> list[ShopContext]:
        """Return each shop with what its history needs: zones loaded, variants, numbers taken."""
        loaded = {
            s.pk: s
            for s in Shop.objects.prefetch_related("shipping_zones").filter(
                pk__in=[s.pk for s in shops]
            )
        }
        contexts = []
        for spec, shop in zip(SHOPS, shops):
            shop = loaded[shop.pk]
            variants = demo_variants(shop, spec)
            if not variants:
                raise CommandError(_("%(shop)s has none of the demo products.") % {"shop": shop})
            numbers = set(Order.objects.filter(shop=shop).values_list("number", flat=True))
            contexts.append(
                ShopContext(
                    spec=spec,
                    shop=shop,
                    variants=variants,
                    operator=logins.owners[spec.slug],
                    numbers=numbers,
                )
            )
        return contexts
