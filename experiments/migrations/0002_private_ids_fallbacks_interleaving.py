"""Unguessable public ids for participants and exposures (filled for existing rows, then unique),
the fallback a running arm may need, interleaving's teams and design, and the "curator" group
that may read experiments' analyses and exports (the experiments view permissions)."""

import uuid

from django.contrib.auth.management import create_permissions
from django.db import migrations, models

CURATOR = "curator"
VIEW = ("experiment", "arm", "participant", "exposure", "click", "exposurerating", "feedback", "recommenderdefinition")


def fill_public_ids(apps, schema_editor):
    for name in ("Participant", "Exposure"):
        model = apps.get_model("experiments", name)
        for row in model.objects.filter(public_id__isnull=True).only("pk").iterator():
            model.objects.filter(pk=row.pk).update(public_id=uuid.uuid4())


def create_curator_group(apps, schema_editor):
    config = apps.get_app_config("experiments")
    config.models_module = True  # permissions are created after migrate; make sure they exist now
    create_permissions(config, verbosity=0, apps=apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=CURATOR)
    codenames = [f"view_{model}" for model in VIEW]
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="experiments", codename__in=codenames)
    )


def drop_curator_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=CURATOR).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("experiments", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.AddField(
            model_name="participant", name="public_id", field=models.UUIDField(null=True, editable=False)
        ),
        migrations.AddField(
            model_name="exposure", name="public_id", field=models.UUIDField(null=True, editable=False)
        ),
        migrations.RunPython(fill_public_ids, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="participant",
            name="public_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
        migrations.AlterField(
            model_name="exposure",
            name="public_id",
            field=models.UUIDField(
                default=uuid.uuid4, editable=False, help_text="How the visitor's pages and app name it.", unique=True
            ),
        ),
        migrations.AddField(
            model_name="exposure",
            name="fallback_reason",
            field=models.CharField(
                blank=True,
                help_text="Why the arm's recommender did not answer (blank: it did); ``recommender`` stood in.",
                max_length=300,
            ),
        ),
        migrations.AddField(
            model_name="exposure",
            name="teams",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="Interleaved: for each position, the arm id whose ranking drafted the painting.",
            ),
        ),
        migrations.AlterField(
            model_name="exposure",
            name="recommender",
            field=models.CharField(help_text="The recommender that answered.", max_length=50),
        ),
        migrations.AlterField(
            model_name="experiment",
            name="design",
            field=models.CharField(
                choices=[
                    ("between", "Between subjects (one arm per visitor)"),
                    ("within", "Within subjects (every arm, counterbalanced, one repeated)"),
                    ("interleaved", "Interleaved (two arms team-drafted into one list)"),
                ],
                default="between",
                max_length=16,
            ),
        ),
        migrations.RunPython(create_curator_group, drop_curator_group),
    ]
