"""Recompute ``Painting.content_hash`` now that the story group's name is no longer part of the
engines' text (issue 8.3): the next artefact refresh re-embeds every painting whose text
changed, i.e. those in a story group. The text is composed by a frozen copy of
``catalog.text.compose_text`` as of this migration."""

import hashlib

from django.db import migrations


def _text(painting) -> str:
    body = painting.description.strip() or ", ".join(s.strip() for s in painting.subjects or () if s.strip())
    artist = painting.artist.name if painting.artist_id else ""
    parts = (painting.title, artist, painting.medium, body)
    return "\n".join(p.strip() for p in parts if p and p.strip())


def recompute(apps, schema_editor):
    Painting = apps.get_model("catalog", "Painting")
    changed = []
    for painting in Painting.objects.select_related("artist").order_by("pk").iterator(chunk_size=2000):
        digest = hashlib.sha256(f"{_text(painting)}\n\x00{painting.image_sha256}".encode()).hexdigest()
        if digest != painting.content_hash:
            painting.content_hash = digest
            changed.append(painting)
        if len(changed) >= 2000:
            Painting.objects.bulk_update(changed, ["content_hash"])
            changed = []
    Painting.objects.bulk_update(changed, ["content_hash"])


class Migration(migrations.Migration):
    dependencies = [("catalog", "0003_story_group_elicitation")]

    operations = [migrations.RunPython(recompute, migrations.RunPython.noop)]
