"""Story groups an import made from a data column (a century, a department, a subject category)
are no curator's choice of what visitors rate first: they stop being used in elicitation, which
then draws from the collection's own clusters (``recsys.serving.elicitation``). A group someone
curated (given a description or an elicitation position, or flagged off and on: anything but the
import's untouched defaults) keeps its setting; curators flag groups back in the admin."""

from django.db import migrations


def unflag_imported_groups(apps, schema_editor):
    StoryGroup = apps.get_model("catalog", "StoryGroup")
    StoryGroup.objects.filter(use_in_elicitation=True, elicitation_order=0, description="").update(
        use_in_elicitation=False
    )


class Migration(migrations.Migration):
    dependencies = [("catalog", "0004_content_hash_without_story_group")]

    operations = [migrations.RunPython(unflag_imported_groups, migrations.RunPython.noop)]
