# The single-column indexes on subject and official go: the (subject, at) and (official, at)
# indexes serve the same lookups. The indexes are dropped by name rather than by Django's
# AlterField, which on SQLite copies the whole access log into a new table to do it.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

TABLE = "exchange_accessrecord"
SUBJECT = "exchange_accessrecord_subject_96d8c5f8"  # with "_like" on PostgreSQL (pattern ops)
OFFICIAL = "exchange_accessrecord_official_id_3221e539"


def drop_indexes(apps, schema_editor):
    for name in (SUBJECT, f"{SUBJECT}_like", OFFICIAL):
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")


def restore_indexes(apps, schema_editor):
    q = schema_editor.quote_name
    schema_editor.execute(f"CREATE INDEX {q(SUBJECT)} ON {q(TABLE)} ({q('subject')})")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE INDEX {q(SUBJECT + '_like')} ON {q(TABLE)} ({q('subject')} varchar_pattern_ops)")
    schema_editor.execute(f"CREATE INDEX {q(OFFICIAL)} ON {q(TABLE)} ({q('official_id')})")


class Migration(migrations.Migration):
    dependencies = [
        ("exchange", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="accessrecord",
                    name="official",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="accessrecord",
                    name="subject",
                    field=models.CharField(max_length=30, verbose_name="数据主体"),
                ),
            ],
            database_operations=[migrations.RunPython(drop_indexes, restore_indexes)],
        ),
    ]
