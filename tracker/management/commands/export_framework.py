import uuid
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tracker.frameworks import framework_export
from tracker.models import Framework


class Command(BaseCommand):
    help = "Export one framework tree as a Moodle competency-framework CSV or a CASE 1.1 package."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("framework", help="The framework's id number, CASE identifier or UUID.")
        parser.add_argument("--format", choices=["moodle", "case"], default="moodle")
        parser.add_argument("--output", "-o", type=Path, help="File to write (default: standard output).")

    def handle(self, *args: Any, framework: str, format: str, output: Path | None, **options: Any) -> None:
        found = (
            Framework.objects.filter(idnumber=framework).first()
            or Framework.objects.filter(source_identifier=framework).first()
        )
        if found is None and _is_uuid(framework):
            found = Framework.objects.filter(uuid=framework).first()
        if found is None:
            raise CommandError(f"Unknown framework: {framework}")
        _name, _type, text = framework_export(framework=found, fmt=format)
        if output:
            output.write_text(text, encoding="utf-8")
            self.stdout.write(f"Wrote {output}")
        else:
            self.stdout.write(text, ending="")


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
