from collections.abc import Mapping
from typing import Any

from rest_framework import serializers

from tracker.models import Claim, Competency, Resource


class ClaimSerializer(serializers.ModelSerializer[Claim]):
    class Meta:
        model = Claim
        fields = ["id", "uuid", "order", "text", "required", "evidence_kinds", "version"]


class ResourceSerializer(serializers.ModelSerializer[Resource]):
    class Meta:
        model = Resource
        fields = ["id", "title", "url"]


class CompetencyListSerializer(serializers.ModelSerializer[Competency]):
    url = serializers.HyperlinkedIdentityField(view_name="api-competency-detail", lookup_field="slug")
    claim_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Competency
        fields = ["id", "uuid", "slug", "url", "title", "category", "summary", "status", "version", "claim_count"]


class CompetencySerializer(serializers.ModelSerializer[Competency]):
    """Full competency; admins write it (claims and resources are replaced in order)."""

    claims = ClaimSerializer(many=True, source="active_claims", read_only=True)
    resources = ResourceSerializer(many=True, source="resources.all", read_only=True)

    class Meta:
        model = Competency
        fields = [
            "id", "uuid", "slug", "title", "category", "summary", "description",
            "status", "version", "claims", "resources",
        ]  # fmt: skip
        read_only_fields = ["slug"]


def absolute_url(context: Mapping[str, Any], path: str) -> str:
    """`path` as an absolute URL when the serializer has a request (API clients follow it as is)."""
    request = context.get("request")
    return request.build_absolute_uri(path) if request else path
