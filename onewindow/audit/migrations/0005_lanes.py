"""The audit log becomes a few independent chains (lanes): entries are unique by (lane, seq),
and each lane has its head row. Existing entries are lane 1, the chain they already form, and
go on verifying as they did. SQLite rebuilds the table, which drops the head trigger: it is
created again, following the head of the entry's own lane."""

from django.db import migrations, models

from onewindow.audit.migrations import _sqlite_trigger


def refuse_backwards_with_lanes(apps, schema_editor):  # noqa: ANN001, ANN201
    """Entries of lanes other than 1 cannot go back to one chain (their seqs repeat lane 1's)."""
    entry = apps.get_model("audit", "AuditEntry")
    if entry.objects.using(schema_editor.connection.alias).exclude(lane=1).exists():
        raise RuntimeError("audit entries exist in lanes other than 1: they cannot be made one chain again")


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0004_fewer_append_indexes"),
    ]

    operations = [
        # (Backwards: the rebuild undoing the change drops the trigger too; create it again.)
        migrations.RunPython(migrations.RunPython.noop, _sqlite_trigger.create),
        migrations.AddField(
            model_name="auditentry",
            name="lane",
            field=models.PositiveSmallIntegerField(default=1, verbose_name="链"),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="seq",
            field=models.PositiveBigIntegerField(verbose_name="序号"),
        ),
        migrations.AddConstraint(
            model_name="auditentry",
            constraint=models.UniqueConstraint(fields=("lane", "seq"), name="audit_entry_lane_seq"),
        ),
        migrations.AlterModelOptions(
            name="auditentry",
            options={"ordering": ["id"], "verbose_name": "审计日志", "verbose_name_plural": "审计日志"},
        ),
        migrations.RunPython(_sqlite_trigger.create_lanes, migrations.RunPython.noop),
        # Backwards, first of all:
        migrations.RunPython(migrations.RunPython.noop, refuse_backwards_with_lanes),
    ]
