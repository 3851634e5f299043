"""Verify a credential offline: no network, no database. The credential is a JSON file or a baked badge (PNG or
SVG). Contexts are the app's local copies; the issuer's DID document and the status list come from files (or the
DID document from this installation's key ring)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from credentials.baking import CredentialParseError, credential_parse, credential_read
from credentials.did import did_document
from credentials.verification import credential_verify


def _read_json(path: str, what: str) -> dict[str, Any]:
    try:
        data = Path(path).read_bytes()
        return credential_read(data) if what == "credential" else credential_parse(data)
    except OSError as error:
        raise CommandError(f"Cannot read the {what} {path}: {error.strerror}") from error
    except CredentialParseError as error:
        raise CommandError(f"The {what} {path}: {error}") from error


class Command(BaseCommand):
    help = "Verify an Open Badges 3.0 credential (JSON, or a baked PNG or SVG badge) offline; exit 1 when not valid."
    requires_system_checks: list[str] = []  # no database, and a verifier needs no signing key

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the credential: a JSON file, or a baked badge (PNG or SVG)")
        parser.add_argument("--did-document", help="the issuer's DID document (default: this installation's keys)")
        parser.add_argument("--status-list", action="append", default=[], help="a BitstringStatusListCredential file")

    def handle(self, *args: Any, file: str, did_document: str | None, status_list: list[str], **options: Any) -> None:
        credential = _read_json(file, "credential")
        controller = _read_json(did_document, "DID document") if did_document else _local_did_document()
        lists = {doc.get("id"): doc for doc in (_read_json(path, "status list") for path in status_list)}
        result = credential_verify(credential, did_document=controller, status_lists=lists.get)
        self.stdout.write(json.dumps(result.as_dict(), indent=2))
        if not result.valid:
            raise SystemExit(1)


def _local_did_document() -> dict[str, Any]:
    try:
        return did_document()
    except Exception as error:
        raise CommandError(f"No --did-document given and no local issuer keys: {error}") from error
