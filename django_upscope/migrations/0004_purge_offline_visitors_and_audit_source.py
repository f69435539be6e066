"""One name for purging offline visitors: ``purge_offline_visitors``.

The permission codename was ``purge_visitors`` and the audit action ``purge_offline``.
Existing Permission rows are renamed in place, so the users and groups granted the old
permission keep it; existing audit rows get the new action. ``AuditEvent.source`` gets
its choices (``AuditEvent.Source``).
"""

import django.db.models.expressions
from django.conf import settings
from django.db import migrations, models

OLD_CODENAME, NEW_CODENAME = "purge_visitors", "purge_offline_visitors"
OLD_ACTION, NEW_ACTION = "purge_offline", "purge_offline_visitors"


def _rename_permission(apps, old, new):
    Permission = apps.get_model("auth", "Permission")
    ContentType = apps.get_model("contenttypes", "ContentType")
    content_type = ContentType.objects.filter(app_label="django_upscope", model="visitor").first()
    if content_type is None:  # a fresh database: post_migrate creates the new permission
        return
    stale = Permission.objects.filter(content_type=content_type, codename=old).first()
    if stale is None:
        return
    current = Permission.objects.filter(content_type=content_type, codename=new).first()
    if current is None:
        stale.codename = new
        stale.save(update_fields=["codename"])
        return
    # Both exist (post_migrate ran in between): move the grants, then drop the old row.
    for user in stale.user_set.all():
        user.user_permissions.add(current)
    for group in stale.group_set.all():
        group.permissions.add(current)
    stale.delete()


def _rename_action(apps, old, new):
    AuditEvent = apps.get_model("django_upscope", "AuditEvent")
    AuditEvent.objects.filter(action=old).update(action=new)


def forwards(apps, schema_editor):
    _rename_permission(apps, OLD_CODENAME, NEW_CODENAME)
    _rename_action(apps, OLD_ACTION, NEW_ACTION)


def backwards(apps, schema_editor):
    _rename_permission(apps, NEW_CODENAME, OLD_CODENAME)
    _rename_action(apps, NEW_ACTION, OLD_ACTION)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0001_initial"),
        # The user model's state, for the grants moved below (``user_set``).
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("contenttypes", "0002_remove_content_type_name"),
        ("django_upscope", "0003_visitor_recent_index"),
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
                    ("purge_offline_visitors", "Can purge offline visitors from Upscope"),
                    ("refresh_visitor", "Can refresh visitors from Upscope"),
                ],
                "verbose_name": "visitor",
                "verbose_name_plural": "visitors",
            },
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="action",
            field=models.CharField(
                choices=[
                    ("watch_url", "Watch URL minted"),
                    ("stop_session", "Session stopped"),
                    ("delete_visitor", "Visitor deleted"),
                    ("purge_offline_visitors", "Offline visitors purged"),
                    ("refresh_visitor", "Visitor refreshed"),
                ],
                db_index=True,
                max_length=32,
                verbose_name="action",
            ),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="source",
            field=models.CharField(
                blank=True,
                choices=[
                    ("admin", "Admin"),
                    ("api", "REST API"),
                    ("command", "Management command"),
                ],
                db_index=True,
                max_length=32,
                verbose_name="source",
            ),
        ),
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
