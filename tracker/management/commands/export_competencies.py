from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tracker.exporters import EXPORTERS
from tracker.models import Competency


class Command(BaseCommand):
    help = "Export competencies as seed-format Markdown, CASE 1.1 JSON or Moodle CSV."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slugs", nargs="*", help="Competency slugs (default: all).")
        parser.add_argument("--format", choices=sorted(EXPORTERS), default="markdown")
        parser.add_argument("--output", "-o", type=Path, help="File to write (default: standard output).")

    def handle(self, *args: Any, slugs: list[str], format: str, output: Path | None, **options: Any) -> None:
        competencies = Competency.objects.order_by("title")
        if slugs:
            competencies = competencies.filter(slug__in=slugs)
            unknown = set(slugs) - set(competencies.values_list("slug", flat=True))
            if unknown:
                raise CommandError(f"Unknown competency: {', '.join(sorted(unknown))}")
        _name, _type, text = EXPORTERS[format](competencies)
        if output:
            output.write_text(text, encoding="utf-8")
            self.stdout.write(f"Wrote {output}")
        else:
            self.stdout.write(text, ending="")
