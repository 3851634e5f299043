from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tracker.services import FrameworkImportError, competency_import_files


class Command(BaseCommand):
    help = "Import competencies from seed-format Markdown files or Moodle CSV files (all or nothing)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", type=Path)

    def handle(self, *args: Any, paths: list[Path], **options: Any) -> None:
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            raise CommandError(f"No such file: {', '.join(missing)}")
        try:
            competencies = competency_import_files(paths=paths)
        except FrameworkImportError as error:
            raise CommandError(f"{error} — nothing was imported.") from error
        for competency in competencies:
            claims, resources = competency.claims.filter(is_active=True).count(), competency.resources.count()
            self.stdout.write(f"Imported {competency.title} ({claims} claims, {resources} resources)")
