"""The agency's departments that work is handed over to; administrators edit the list."""

from django.db import migrations

DEPARTMENTS = ["Creative", "Planning", "Production house", "Media", "Digital"]


def create(apps, schema_editor):
    Department = apps.get_model("clients", "Department")
    for name in DEPARTMENTS:
        Department.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [("clients", "0002_search_indexes")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
