from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tracker import frameworks
from tracker.formats.base import FormatError
from tracker.formats.tree import parse_levels
from tracker.services import FrameworkImportError, competency_import_files

# Read as framework trees (Moodle CSV, CASE package); anything else is the seed's Markdown.
TREE_SUFFIXES = (".csv", ".json")


class Command(BaseCommand):
    help = (
        "Import competencies from seed-format Markdown files, or whole frameworks from Moodle CSV (.csv) and CASE 1.1 "
        "(.json) files (all or nothing). --dry-run shows a framework's tree and what would change, saving nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="Show the tree and the changes; save nothing.")
        parser.add_argument(
            "--level",
            action="append",
            default=[],
            metavar="N=ROLE",
            help="The role of every node at level N (0 = the framework row): group, competency or claim. Repeatable.",
        )

    def handle(self, *args: Any, paths: list[Path], dry_run: bool, level: list[str], **options: Any) -> None:
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            raise CommandError(f"No such file: {', '.join(missing)}")
        try:
            levels = parse_levels(dict(item.partition("=")[::2] for item in level))
        except FormatError as error:
            raise CommandError(error.message) from error
        trees = [p for p in paths if p.suffix.lower() in TREE_SUFFIXES]
        if trees and len(paths) > 1:
            raise CommandError("Import a framework file (.csv, .json) on its own.")
        try:
            if trees:
                self._framework(trees[0], levels, dry_run)
            elif dry_run:
                raise CommandError("--dry-run previews framework files (.csv, .json).")
            else:
                self._markdown(paths)
        except FrameworkImportError as error:
            raise CommandError(f"{error} — nothing was imported.") from error

    def _markdown(self, paths: list[Path]) -> None:
        for competency in competency_import_files(paths=paths):
            claims, resources = competency.claims.filter(is_active=True).count(), competency.resources.count()
            self.stdout.write(f"Imported {competency.title} ({claims} claims, {resources} resources)")

    def _framework(self, path: Path, levels: dict[int, str], dry_run: bool) -> None:
        data = path.read_bytes()
        plan = frameworks.framework_plan(name=str(path), data=data, levels=levels)
        self._print_plan(plan)
        if dry_run:
            self.stdout.write("Dry run: nothing was saved.")
            return
        framework = frameworks.framework_import(name=str(path), data=data, levels=levels)
        self.stdout.write(f"Imported the framework {framework.title} ({framework.nodes.count()} nodes)")

    def _print_plan(self, plan: frameworks.ImportPlan) -> None:
        counts = plan.counts()
        self.stdout.write(
            f"{plan.tree.title}: {counts['competency']} competencies, {counts['claim']} claims, "
            f"{counts['group']} grouping; {counts['added']} added, {counts['updated']} updated, "
            f"{counts['unchanged']} unchanged, {counts['retired']} retired"
        )
        if plan.root:
            self.stdout.write(f"{plan.root.data.role}: {plan.root.data.short_name} (the framework itself)")
        for node in plan.all_nodes():
            label = f"{node.data.role}: {node.data.short_name[:80]} [{node.data.key}]"
            self.stdout.write(f"{'  ' * node.level}{label} ({node.change})")
        for retired in plan.retired:
            self.stdout.write(f"retired: {retired.short_name[:80]} [{retired.idnumber or retired.case_identifier}]")
