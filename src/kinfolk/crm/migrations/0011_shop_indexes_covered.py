"""Drop the single-column shop indexes of the customers, timeline and stage-change tables.

Every other index of those tables starts with the shop, so these only cost writes: one more
index entry per interaction, stage change and customer row written. The index is dropped by
name (the same on SQLite and PostgreSQL) rather than through ``AlterField``, which on SQLite
would copy the whole table and lose the customer search triggers of 0010.
"""

import django.db.models.deletion
from django.db import migrations, models

INDEXES = {
    "crm_customer": "crm_customer_shop_id_93a8363b",
    "crm_interaction": "crm_interaction_shop_id_37f67d8d",
    "crm_stagechange": "crm_stagechange_shop_id_2ee326cb",
}


def _field(related_name: str) -> models.ForeignKey:
    return models.ForeignKey(
        db_index=False,
        on_delete=django.db.models.deletion.CASCADE,
        related_name=related_name,
        to="shops.shop",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0010_customer_search"),
        ("shops", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField("customer", "shop", _field("customers")),
                migrations.AlterField("interaction", "shop", _field("interactions")),
                migrations.AlterField("stagechange", "shop", _field("stage_changes")),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{index}"',
                    reverse_sql=f'CREATE INDEX "{index}" ON "{table}" ("shop_id")',
                )
                for table, index in INDEXES.items()
            ],
        )
    ]
