"""The verify page's upload: a credential as a JSON file, bounded in size, parsed or refused with a sentence."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.conf import settings


class CredentialParseError(ValueError):
    """What a person uploaded is not a credential we can read; the message says why."""


def credential_parse(data: bytes) -> dict[str, Any]:
    limit = settings.CREDENTIALS_VERIFY_MAX_BYTES
    if len(data) > limit:
        raise CredentialParseError(f"The file is larger than {limit // 1024} KB; a credential is a few KB.")
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        raise CredentialParseError("The file is not UTF-8 text: upload the credential's JSON file.") from error
    except (ValueError, RecursionError) as error:
        raise CredentialParseError(f"The file is not valid JSON: {str(error)[:200]}") from error
    if not isinstance(document, dict):
        raise CredentialParseError("The file is JSON but not a credential (a JSON object).")
    return document


class CredentialUploadForm(forms.Form):
    file = forms.FileField(label="Credential (JSON file)")

    def clean_file(self) -> dict[str, Any]:
        upload = self.cleaned_data["file"]
        data = upload.read(settings.CREDENTIALS_VERIFY_MAX_BYTES + 1)
        try:
            return credential_parse(data)
        except CredentialParseError as error:
            raise forms.ValidationError(str(error)) from error
