"""SQLite: the chain head follows every appended entry (a trigger), so that an append is one
INSERT ... SELECT from the head (services._append_sqlite). PostgreSQL appends with one
UPDATE ... INSERT statement and needs no trigger."""

from django.db import migrations

from onewindow.audit.migrations import _sqlite_trigger


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0002_audithead_prev_hash"),
    ]

    operations = [migrations.RunPython(_sqlite_trigger.create, _sqlite_trigger.drop)]
