"""The entry hash is no longer unique-indexed (nothing looks it up; the chain itself proves each
link). SQLite rebuilds the table for this, which drops its triggers: the head trigger of 0003
is created again."""

from django.db import migrations, models

from onewindow.audit.migrations import _sqlite_trigger


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0003_sqlite_head_trigger"),
    ]

    operations = [
        # (Backwards: the rebuild undoing the change drops the trigger too; create it again.)
        migrations.RunPython(migrations.RunPython.noop, _sqlite_trigger.create),
        migrations.AlterField(
            model_name="auditentry",
            name="hash",
            field=models.CharField(max_length=64),
        ),
        migrations.RunPython(_sqlite_trigger.create, migrations.RunPython.noop),
    ]
