import django.db.models.expressions
from django.db import migrations

INDEX = "upscope_visitor_recent"


def create_index(apps, schema_editor):
    # The order of the visitor lists (admin and API): PostgreSQL sorts NULLs first in a
    # DESC order unless told otherwise, so the plain last_seen_at index cannot serve it.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON django_upscope_visitor "
            "(last_seen_at DESC NULLS LAST, short_id)"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("django_upscope", "0002_mirror_history_hash"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="visitor",
            options={
                "ordering": (
                    django.db.models.expressions.OrderBy(
                        django.db.models.expressions.F("last_seen_at"),
                        descending=True,
                        nulls_last=True,
                    ),
                    "short_id",
                ),
                "permissions": [
                    ("screenshare_visitor", "Can start a screen share (view only)"),
                    (
                        "remote_control_visitor",
                        "Can control a screen share (click, type, scroll, draw)",
                    ),
                    ("remote_console_visitor", "Can use the remote console in a screen share"),
                    ("agent_redirect_visitor", "Can redirect and reload the visitor's page"),
                    ("audio_visitor", "Can use audio in a screen share"),
                    ("purge_visitors", "Can purge offline visitors from Upscope"),
                    ("refresh_visitor", "Can refresh visitors from Upscope"),
                ],
                "verbose_name": "visitor",
                "verbose_name_plural": "visitors",
            },
        ),
        migrations.RunPython(create_index, drop_index, elidable=False),
    ]
