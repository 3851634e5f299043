"""Issuer keys: `new` prints one for CREDENTIALS_SIGNING_KEY, `create` makes the key file, `rotate` adds a key
to it, `show` lists the published keys (see credentials/keys.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from credentials.did import verification_method_id
from credentials.keys import IssuerKey, SigningKeyMissing, issuer_keys, keyfile_create, keyfile_rotate
from credentials.multikey import secret_key_encode


class Command(BaseCommand):
    help = "Create, rotate and list the issuer's credential signing keys."
    # It is how a missing key gets made, so the missing-key check must not stop it.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["new", "create", "rotate", "show"])

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        path = Path(settings.CREDENTIALS_KEY_FILE)
        from_environment = bool(settings.CREDENTIALS_SIGNING_KEY.strip())
        if action == "new":
            key = IssuerKey.generate()
            assert key.secret_key is not None
            self.stdout.write(secret_key_encode(key.secret_key))
        elif action == "create":
            created = keyfile_create(path)
            self.stdout.write(f"{'Created' if created else 'Kept the existing'} key file {path}")
        elif action == "rotate":
            if from_environment:
                raise CommandError(
                    "The keys come from CREDENTIALS_SIGNING_KEY: append a new key from `credentials_key new` to it "
                    "(comma-separated, newest last) and restart."
                )
            key = keyfile_rotate(path)
            self.stdout.write(f"Added {key.public_key_multibase}; it signs from now on.")
        else:
            self._show()

    def _show(self) -> None:
        try:
            keys = issuer_keys()
        except SigningKeyMissing as error:
            raise CommandError(str(error)) from error
        for number, key in enumerate(keys, start=1):
            role = "signs" if number == len(keys) else ("retired" if key.secret_key is None else "published")
            self.stdout.write(f"{verification_method_id(key)}  {role}")
