"""Load the shipped catalogue and the three demo users; safe to run again (reuses what exists)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from tracker.formats.seed_markdown import parse_seed_markdown
from tracker.models import Competency, User
from tracker.roles import role_grant
from tracker.services import competency_import_files, mentor_assign

CATALOGUE_DIR = Path(settings.BASE_DIR) / "tracker" / "catalogue"
DEMO_USERS = [("learner", "learner"), ("mentor", "mentor"), ("admin", "admin")]


class Command(BaseCommand):
    help = "Load the shipped competencies (first run only) and create the demo users learner, mentor, admin."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-users", action="store_true", help="Load the catalogue only.")

    def handle(self, *args: Any, no_users: bool = False, **options: Any) -> None:
        self._load_catalogue()
        if not no_users:
            password = self._demo_password()
            for username, role in DEMO_USERS:
                self._ensure_user(username, role, password)
            self.stdout.write(f"Demo logins: learner, mentor, admin — password: {password}")

    def _load_catalogue(self) -> None:
        # Only files whose competency is absent: an admin's later edits must survive a restart.
        existing = set(Competency.objects.values_list("title", flat=True))
        for path in sorted(CATALOGUE_DIR.glob("*.md")):
            if parse_seed_markdown(path.read_text(encoding="utf-8")).title not in existing:
                for competency in competency_import_files(paths=[path]):
                    self.stdout.write(f"Loaded competency {competency.title}")

    def _demo_password(self) -> str:
        """DEMO_PASSWORD, else one generated on the first run and kept in VAR_DIR (mode 0600)."""
        if os.environ.get("DEMO_PASSWORD"):
            return os.environ["DEMO_PASSWORD"]
        path = Path(settings.VAR_DIR) / "demo_password"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(secrets.token_urlsafe(12))
        return path.read_text().strip()

    def _ensure_user(self, username: str, role: str, password: str) -> None:
        user, created = User.objects.get_or_create(username=username, defaults={"email": f"{username}@example.com"})
        if created or not user.check_password(password):
            user.set_password(password)
            user.save()
        role_grant(user=user, role=role)
        if role == "admin" and not user.is_superuser:
            user.is_superuser = True
            user.save(update_fields=["is_superuser"])
        if role == "mentor":
            mentor_assign(mentor=user, competencies=Competency.objects.filter(slug="keras"))
