"""SQLite: the chain head follows every appended entry (a trigger), so that an append is one
INSERT ... SELECT from the head (services._append_sqlite). PostgreSQL appends with one
UPDATE ... INSERT statement and needs no trigger."""

from django.db import migrations

CREATE = """
CREATE TRIGGER IF NOT EXISTS audit_head_follows_entry AFTER INSERT ON audit_auditentry
BEGIN
    UPDATE audit_audithead SET seq = NEW.seq, prev_hash = NEW.prev_hash, hash = NEW.hash WHERE id = 1;
END
"""
DROP = "DROP TRIGGER IF EXISTS audit_head_follows_entry"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0002_audithead_prev_hash"),
    ]

    operations = [migrations.RunPython(create, drop)]
