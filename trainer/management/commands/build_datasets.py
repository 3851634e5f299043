"""`manage.py build_datasets [SLUG ...] [--force]`: build the training datasets (all by default)."""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from trainer.datasets.base import DatasetUnavailable
from trainer.datasets.registry import BUILDERS, dataset_build, dataset_is_current
from trainer.models import Dataset
from trainer.services import tasks_sync

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Build the training datasets into TRAINER_DATA_DIR (all by default); intact ones are left alone."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slugs", nargs="*", metavar="SLUG", help=f"Any of: {', '.join(sorted(BUILDERS))}.")
        parser.add_argument("--force", action="store_true", help="Rebuild even when the files are intact.")

    def handle(self, *args: Any, slugs: list[str], force: bool, **options: Any) -> None:
        unknown = [slug for slug in slugs if slug not in BUILDERS]
        if unknown:
            raise CommandError(f"Unknown dataset {', '.join(unknown)}; known: {', '.join(sorted(BUILDERS))}.")
        # One failure must not stop the others: a server may lack one source package and still use the rest.
        # Tasks are synced after each dataset, so a running site offers each task as soon as its data is ready.
        failed = []
        for slug in slugs or sorted(BUILDERS):
            if self.build_one(slug, force):
                tasks_sync()
            else:
                failed.append(slug)
        for reason in tasks_sync():
            self.stdout.write(f"Task not offered: {reason}")
        if failed:
            # CommandError makes manage.py exit with status 1.
            raise CommandError(f"Not built: {', '.join(failed)}.")

    def build_one(self, slug: str, force: bool) -> bool:
        started = time.monotonic()
        try:
            current = not force and dataset_is_current(slug=slug)
            dataset = dataset_build(slug=slug, force=force)
        except (DatasetUnavailable, ValueError, OSError) as error:
            # A missing package, a corrupt source file or a full disk: say which dataset, then go on to the next.
            self.stderr.write(f"{slug}: not built. {error}")
            return False
        except Exception as error:
            # Anything else (a synthesiser or the base model's training failing) must not stop the other datasets.
            logger.exception("Building dataset %s failed", slug)
            self.stderr.write(f"{slug}: not built, the builder failed: {type(error).__name__}: {error}")
            return False
        self.stdout.write(self.summary(dataset, "up to date" if current else "built", time.monotonic() - started))
        return True

    @staticmethod
    def summary(dataset: Dataset, action: str, seconds: float) -> str:
        size = int(dataset.stats.get("total_bytes", 0)) / (1024 * 1024)
        return (
            f"{dataset.slug} {dataset.version}: {action} in {seconds:.1f} s, {size:.1f} MB, "
            f"sha256 {dataset.checksum[:12]}, {dataset.path}"
        )
