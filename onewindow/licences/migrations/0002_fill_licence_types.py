"""The bundled licence types (data/licence_types.yaml as it is when this runs)."""

from pathlib import Path

import yaml
from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data" / "licence_types.yaml"


def fill(apps, schema_editor):
    LicenceType = apps.get_model("licences", "LicenceType")
    for t in yaml.safe_load(DATA.read_text(encoding="utf-8"))["types"]:
        LicenceType.objects.update_or_create(
            code=t["code"],
            defaults={
                "name": t["name"],
                "name_en": t.get("name_en", ""),
                "department_code": t.get("department", ""),
                "holder_kind": t.get("holder", "any"),
                "validity_months": int(t.get("validity_months", 0)),
                "fields": t.get("fields", []),
                "active": True,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("licences", "0001_initial")]
    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
