"""``manage.py import_catalog``: import paintings from museum exports or the native format.

    import_catalog PATH [--mapping NAME|FILE] [--strict] [--batch-size N] [--no-progress]
    import_catalog --sample

PATH is a manifest file, a folder holding one (its mapping is recognised by file name and
columns), or a folder of such folders. See catalog/mappings/README.md for the formats.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from catalog.importing.mapping import builtin_mappings, resolve_mapping
from catalog.importing.problems import Problem
from catalog.importing.runner import catalogue_import
from catalog.importing.sources import resolve_sources
from config.exceptions import ImportFailed

#: Problems printed in full; the rest are counted (all of them are kept on the ImportRun).
MAX_PRINTED_PROBLEMS = 50


class Command(BaseCommand):
    help = (
        "Import paintings from a CSV/JSON manifest and its images. Idempotent: a second run over "
        "unchanged data changes nothing. Prints 'created N, updated N, unchanged N, problems N'."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", nargs="?", help="Manifest file, set folder, or folder of set folders.")
        parser.add_argument(
            "--mapping",
            help=f"Mapping name ({', '.join(builtin_mappings())}) or a mapping file (.toml/.json).",
        )
        parser.add_argument(
            "--sample",
            action="store_true",
            help="Import the bundled sample sets from settings.CATALOG_SAMPLE_DIR.",
        )
        parser.add_argument(
            "--strict", action="store_true", help="Import nothing at all if any row has a problem."
        )
        parser.add_argument("--batch-size", type=int, default=500, help="Rows per transaction.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        path = self._path(options)
        try:
            mapping = resolve_mapping(options["mapping"]) if options["mapping"] else None
            sources = resolve_sources(path, mapping=mapping)
        except ImportFailed as exc:
            raise CommandError(exc.message) from exc
        for source in sources:
            self.stdout.write(
                f"{source.path} (mapping {source.mapping.name}): {len(source.manifest.rows)} rows"
            )

        show_bar = not options["no_progress"] and options["verbosity"] > 0
        bar: tqdm | None = None

        def progress(done: int, total: int) -> None:
            nonlocal bar
            if bar is None:
                bar = tqdm(total=total, unit="painting", disable=not show_bar)
            bar.update(done - bar.n)

        try:
            report = catalogue_import(
                sources=sources, strict=options["strict"], batch_size=options["batch_size"], progress=progress
            )
        except ImportFailed as exc:
            problems = (exc.detail or {}).get("problems", []) if isinstance(exc.detail, dict) else []
            self._print_problems(problems)
            raise CommandError(exc.message) from exc
        finally:
            if bar is not None:
                bar.close()

        self._print_problems(report.problems)
        if len(report.sources) > 1:
            for source in report.sources:
                self.stdout.write(f"{source.name}: {source.summary()}")
        self.stdout.write(self.style.SUCCESS(report.summary()))
        if report.skipped:
            self.stdout.write(f"{report.skipped} row(s) skipped (no usable id or title, or a duplicate id).")
        self.stdout.write(f"Recorded as import run #{report.run_id} (admin: Catalogue > Import runs).")

    def _path(self, options: dict[str, Any]) -> Path:
        if options["sample"]:
            if options["path"]:
                raise CommandError("Give either a PATH or --sample, not both.")
            sample_dir = Path(settings.CATALOG_SAMPLE_DIR)
            if not sample_dir.is_dir():
                raise CommandError(
                    f"No sample data at {sample_dir}. Set CATALOG_SAMPLE_DIR to the folder holding "
                    "public_art/, aic/, cma/ and tate/, or run `import_catalog PATH [--mapping NAME]`."
                )
            return sample_dir
        if not options["path"]:
            raise CommandError("Give the PATH of a manifest or folder to import, or --sample.")
        return Path(options["path"])

    def _print_problems(self, problems: list[Problem] | list[str]) -> None:
        for problem in problems[:MAX_PRINTED_PROBLEMS]:
            self.stderr.write(str(problem))
        if len(problems) > MAX_PRINTED_PROBLEMS:
            self.stderr.write(
                f"... and {len(problems) - MAX_PRINTED_PROBLEMS} more problem(s), listed in the admin "
                "(Catalogue > Import problems)."
            )
