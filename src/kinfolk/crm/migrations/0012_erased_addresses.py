"""Keep every e-mail address an erased person was known by, as digests in their own table.

0009 kept one digest per erasure, of the customer record's own address, on ``Erasure``. A person
is also known by the addresses of the records merged into theirs and by their account's address;
``ErasedAddress`` holds one row per address, and the digests already kept are copied into it
before ``Erasure.email_digest`` goes. The other addresses of people erased before this migration
were not kept anywhere and cannot be recovered: those erasures stay recognised by their own
address only, and those made before 0009 (blank ``email_digest``) by none.

Removing the indexed column rebuilds ``crm_erasure`` on SQLite (copy, drop, rename); that table
has no triggers, and ``crm_customer``, which has the search triggers of 0010, is not touched.
Going back puts each erasure's first digest (its record's own address, the first one kept) back
on ``Erasure``; the others are lost, as the old column holds one.
"""

import django.db.models.deletion
from django.db import migrations, models

BATCH = 500


def copy_digests_forward(apps, schema_editor):
    """One row per (shop, digest): an address erased twice keeps the row of its first erasure."""
    Erasure = apps.get_model("crm", "Erasure")
    ErasedAddress = apps.get_model("crm", "ErasedAddress")
    db = schema_editor.connection.alias
    rows = (
        Erasure.objects.using(db)
        .exclude(email_digest="")
        .order_by("requested_at", "id")
        .values_list("pk", "shop_id", "email_digest")
    )
    seen: set[tuple[int, str]] = set()
    batch = []
    for erasure_id, shop_id, digest in rows.iterator(chunk_size=BATCH):
        if (shop_id, digest) in seen:
            continue
        seen.add((shop_id, digest))
        batch.append(ErasedAddress(shop_id=shop_id, erasure_id=erasure_id, digest=digest))
        if len(batch) >= BATCH:
            ErasedAddress.objects.using(db).bulk_create(batch)
            batch = []
    ErasedAddress.objects.using(db).bulk_create(batch)


def copy_digests_back(apps, schema_editor):
    """Give each erasure back the digest of its first kept address."""
    Erasure = apps.get_model("crm", "Erasure")
    ErasedAddress = apps.get_model("crm", "ErasedAddress")
    db = schema_editor.connection.alias
    first: dict[int, str] = {}
    for erasure_id, digest in (
        ErasedAddress.objects.using(db).order_by("id").values_list("erasure_id", "digest")
    ):
        first.setdefault(erasure_id, digest)
    changed = [Erasure(pk=pk, email_digest=digest) for pk, digest in first.items()]
    Erasure.objects.using(db).bulk_update(changed, ["email_digest"], batch_size=BATCH)


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0011_shop_indexes_covered"),
        ("shops", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="ErasedAddress",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("digest", models.CharField(max_length=64)),
                (
                    "erasure",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="addresses",
                        to="crm.erasure",
                    ),
                ),
                (
                    "shop",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="erased_addresses",
                        to="shops.shop",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("shop", "digest"), name="erased_address_unique_digest"
                    )
                ],
            },
        ),
        migrations.RunPython(copy_digests_forward, copy_digests_back, elidable=False),
        migrations.RemoveField(model_name="erasure", name="email_digest"),
    ]
