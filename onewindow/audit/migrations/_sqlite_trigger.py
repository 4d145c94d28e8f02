"""The SQLite trigger that moves the chain head with every appended entry (see 0003). Any
migration that makes SQLite rebuild `audit_auditentry` drops it and must create it again."""

CREATE = """
CREATE TRIGGER IF NOT EXISTS audit_head_follows_entry AFTER INSERT ON audit_auditentry
BEGIN
    UPDATE audit_audithead SET seq = NEW.seq, prev_hash = NEW.prev_hash, hash = NEW.hash WHERE id = 1;
END
"""
DROP = "DROP TRIGGER IF EXISTS audit_head_follows_entry"

# From 0005 on: the head of the entry's own lane.
CREATE_LANES = """
CREATE TRIGGER IF NOT EXISTS audit_head_follows_entry AFTER INSERT ON audit_auditentry
BEGIN
    UPDATE audit_audithead SET seq = NEW.seq, prev_hash = NEW.prev_hash, hash = NEW.hash WHERE id = NEW.lane;
END
"""


def create(apps, schema_editor):  # noqa: ANN001, ANN201
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(CREATE)


def create_lanes(apps, schema_editor):  # noqa: ANN001, ANN201
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(DROP)
        schema_editor.execute(CREATE_LANES)


def drop(apps, schema_editor):  # noqa: ANN001, ANN201
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(DROP)
