"""The folded client name, searchable on its own (sales find other people's clients by name only)."""

from django.db import migrations, models

from clients.text import search_text


def fill(apps, schema_editor):
    Client = apps.get_model("clients", "Client")
    batch = []
    for client in Client.objects.only("pk", "name").iterator(chunk_size=2000):
        client.search_name = search_text(client.name)
        batch.append(client)
        if len(batch) == 2000:
            Client.objects.bulk_update(batch, ["search_name"])
            batch = []
    Client.objects.bulk_update(batch, ["search_name"])
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS clients_client_search_name_trgm "
            "ON clients_client USING gin (search_name gin_trgm_ops)"
        )


def unfill(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS clients_client_search_name_trgm")


class Migration(migrations.Migration):
    dependencies = [("clients", "0004_more_indexes")]

    operations = [
        migrations.AddField(
            model_name="client", name="search_name", field=models.TextField(default="", editable=False)
        ),
        migrations.RunPython(fill, unfill),
    ]
