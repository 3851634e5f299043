"""Admins edit the issuer profile and revoke credentials (with a reason); a signed credential is never edited."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest

from credentials.models import IssuedCredential, IssuerProfile
from credentials.services import credential_revoke


@admin.register(IssuerProfile)
class IssuerProfileAdmin(admin.ModelAdmin[IssuerProfile]):
    list_display = ["name", "url", "email"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not IssuerProfile.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class RevokeForm(forms.ModelForm[IssuedCredential]):
    revoke = forms.BooleanField(required=False, help_text="Revoke it: every verifier will then report it revoked.")

    class Meta:
        model = IssuedCredential
        fields = ["revocation_reason"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("revoke") and not (data.get("revocation_reason") or "").strip():
            self.add_error("revocation_reason", "Say why it is revoked (the learner sees the reason).")
        return data


@admin.register(IssuedCredential)
class IssuedCredentialAdmin(admin.ModelAdmin[IssuedCredential]):
    form = RevokeForm
    list_display = ["id", "learner", "competency", "competency_version", "issued_at", "public", "revoked_at"]
    list_filter = ["competency", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["learner__username", "id"]
    list_select_related = ["learner", "competency"]
    readonly_fields = [
        "id", "learner", "competency", "competency_version", "issued_at", "valid_from", "valid_until",
        "status_list", "status_index", "public", "revoked_at", "document",
    ]  # fmt: skip

    def get_fields(self, request: HttpRequest, obj: IssuedCredential | None = None) -> list[Any]:
        editable = [] if obj is not None and obj.is_revoked else ["revoke", "revocation_reason"]
        return [*self.readonly_fields, *editable]

    def get_readonly_fields(self, request: HttpRequest, obj: IssuedCredential | None = None) -> list[str]:
        revoked = obj is not None and obj.is_revoked
        return [*self.readonly_fields, *(["revocation_reason"] if revoked else [])]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # credentials are issued, never made by hand

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a deleted credential would still verify; revoke it instead

    def save_model(self, request: HttpRequest, obj: IssuedCredential, form: Any, change: bool) -> None:
        if form.cleaned_data.get("revoke") and not obj.is_revoked:
            credential_revoke(credential=obj, reason=form.cleaned_data["revocation_reason"])
            messages.info(request, "Revoked; the status list is re-signed.")
