"""The verify page's upload: a credential as a JSON file or a baked badge (PNG, SVG), read or refused with a
sentence (credentials/baking.py)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from credentials.baking import CredentialParseError, credential_read


class CredentialUploadForm(forms.Form):
    file = forms.FileField(label="Credential (JSON file, or a baked badge: PNG or SVG)")

    def clean_file(self) -> dict[str, Any]:
        upload = self.cleaned_data["file"]
        # One byte past the limit is enough to know it is too large: the rest is never read.
        data = upload.read(settings.CREDENTIALS_VERIFY_MAX_BYTES + 1)
        try:
            return credential_read(data)
        except CredentialParseError as error:
            raise forms.ValidationError(str(error)) from error
