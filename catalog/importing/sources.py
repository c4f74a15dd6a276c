"""Which manifests an ``import_catalog <path>`` reads, and with which mapping.

``path`` may be a manifest file, a folder holding one set (its manifest is found by the file
names the mappings declare, and the header decides between mappings sharing a file name), or a
folder of such set folders (the bundled sample data: ``public_art/``, ``aic/``, ``cma/``,
``tate/``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from catalog.importing.manifest import Manifest, detect_mapping, read_manifest
from catalog.importing.mapping import Mapping, builtin_mappings, manifest_in
from config.exceptions import ImportFailed


@dataclass(frozen=True, slots=True)
class ImportSource:
    path: Path
    mapping: Mapping
    manifest: Manifest

    @property
    def base_dir(self) -> Path:
        """Image paths in the manifest are relative to its folder."""
        return self.path.parent


def _source(path: Path, mapping: Mapping | None) -> ImportSource:
    if mapping is not None:
        return ImportSource(path, mapping, read_manifest(path, mapping))
    found, manifest = detect_mapping(path, list(builtin_mappings().values()))
    return ImportSource(path, found, manifest)


def _in_folder(folder: Path, mapping: Mapping | None) -> ImportSource | None:
    candidates = [mapping] if mapping is not None else list(builtin_mappings().values())
    files = sorted({f for m in candidates if (f := manifest_in(folder, m)) is not None})
    if not files:
        return None
    if len(files) > 1:
        raise ImportFailed(
            f"{folder} holds several manifests ({', '.join(f.name for f in files)}); name the file.",
            field="path",
        )
    return _source(files[0], mapping)


def resolve_sources(path: Path, *, mapping: Mapping | None = None) -> list[ImportSource]:
    """The manifests under ``path`` with their mappings, or ``ImportFailed`` saying why none."""
    path = path.expanduser()
    if path.is_file():
        return [_source(path, mapping)]
    if not path.is_dir():
        raise ImportFailed(f"{path} does not exist.", field="path")
    single = _in_folder(path, mapping)
    if single is not None:
        return [single]
    sources = [
        s for sub in sorted(p for p in path.iterdir() if p.is_dir()) if (s := _in_folder(sub, mapping))
    ]
    if not sources:
        wanted = ", ".join(sorted({f for m in builtin_mappings().values() for f in m.files}))
        raise ImportFailed(
            f"No manifest found in {path} or its sub-folders (looked for {wanted}); "
            "pass the manifest file and --mapping.",
            field="path",
        )
    return sources
