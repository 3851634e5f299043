"""Evidence API: object-level permissions in the queryset, domain errors as clear 4xx answers."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action, api_view, permission_classes
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from evidence import selectors, services
from evidence.downloads import evidence_file_response
from evidence.models import Evidence, Kind, Review
from evidence.standing import Standing, standing_by_competency
from tracker.models import Claim, Competency, User
from tracker.openapi import CONFLICT, ErrorSerializer
from tracker.parsers import BoundedJSONParser
from tracker.serializers import absolute_url

MAX_AGE_DAYS = 3650  # as the review queue's filter form


class ReviewSerializer(serializers.ModelSerializer[Review]):
    reviewer = serializers.CharField(source="reviewer.username", read_only=True)

    class Meta:
        model = Review
        fields = ["id", "reviewer", "decision", "comment", "rubric", "created_at"]
        read_only_fields = ["id", "reviewer", "created_at"]


class EvidenceSerializer(serializers.ModelSerializer[Evidence]):
    learner = serializers.CharField(source="learner.username", read_only=True)
    competency: serializers.SlugRelatedField[Competency] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    claim = serializers.PrimaryKeyRelatedField(queryset=Claim.objects.filter(is_active=True))
    kind = serializers.ChoiceField(choices=Kind.choices)
    file = serializers.FileField(write_only=True, required=False)
    file_url = serializers.SerializerMethodField()
    draft = serializers.BooleanField(write_only=True, default=False, help_text="Save without submitting.")
    reviews = ReviewSerializer(many=True, read_only=True)

    class Meta:
        model = Evidence
        fields = [
            "id", "learner", "competency", "claim", "kind", "status", "body", "url", "file", "file_url",
            "file_name", "file_size", "file_sha256", "claim_text", "claim_version", "version", "previous",
            "created_at", "submitted_at", "updated_at", "draft", "reviews",
        ]  # fmt: skip
        read_only_fields = [
            "status", "file_name", "file_size", "file_sha256", "claim_text", "claim_version", "version",
            "previous", "created_at", "submitted_at", "updated_at",
        ]  # fmt: skip
        extra_kwargs = {"body": {"max_length": services.MAX_BODY_CHARS}, "url": {"max_length": 2000}}

    def get_file_url(self, evidence: Evidence) -> str | None:
        if not evidence.file:
            return None
        return absolute_url(self.context, reverse("api-evidence-file", args=[evidence.pk]))


class DecisionSerializer(serializers.Serializer[Any]):
    decision = serializers.ChoiceField(choices=Review.Decision.choices)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=services.MAX_BODY_CHARS)
    rubric = serializers.DictField(child=serializers.IntegerField(min_value=1, max_value=5), required=False)


class SlugFilter(filters.CharFilter):
    field_class = forms.SlugField


class WholeNumberFilter(filters.NumberFilter):
    field_class = forms.IntegerField


class EvidenceFilter(filters.FilterSet):
    """Query parameters of the evidence list; a bad value answers 400 naming the parameter."""

    competency = SlugFilter(field_name="competency__slug", max_length=200)
    # Bounded: a day count past what a date can hold made the query itself fail (a 500).
    min_age_days = WholeNumberFilter(
        method="filter_min_age", min_value=0, max_value=MAX_AGE_DAYS, label="Submitted at least this many days ago"
    )
    scope = filters.ChoiceFilter(
        choices=[("mine", "My own evidence"), ("queue", "Evidence I review")], method="filter_scope"
    )

    class Meta:
        model = Evidence
        fields = ["claim", "kind", "status", "learner"]

    def filter_min_age(self, queryset: Any, name: str, value: Any) -> Any:
        from datetime import timedelta

        from django.utils import timezone

        return queryset.filter(submitted_at__lte=timezone.now() - timedelta(days=int(value)))

    def filter_scope(self, queryset: Any, name: str, value: str) -> Any:
        user = self.request.user
        if value == "mine":
            return queryset.filter(learner=user)
        return queryset.filter(competency__mentors=user).exclude(learner=user).order_by("submitted_at", "pk")


class EvidenceViewSet(
    mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Evidence]
):
    """Evidence you own, or review as a mentor of its competency; admins see all."""

    serializer_class = EvidenceSerializer
    permission_classes = [permissions.IsAuthenticated]
    parser_classes = [BoundedJSONParser, MultiPartParser, FormParser]
    filterset_class = EvidenceFilter

    def get_queryset(self) -> Any:
        visible = selectors.evidence_visible_to(self.request.user)
        return visible.prefetch_related("reviews__reviewer").order_by("-pk")

    def filter_queryset(self, queryset: Any) -> Any:
        # The filters narrow the list; one evidence is found by its id alone (DRF would filter get_object too).
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def perform_create(self, serializer: Any) -> None:
        data = serializer.validated_data
        content = services.EvidenceInput(
            kind=data["kind"], body=data.get("body", ""), url=data.get("url", ""), file=data.get("file")
        )
        serializer.instance = services.evidence_create(
            learner=self._user(), claim=data["claim"], data=content, submit=not data.get("draft")
        )

    def _user(self) -> User:
        user = self.request.user
        assert isinstance(user, User)  # IsAuthenticated ran first
        return user

    def _transition(self, service: Any) -> Response:
        evidence = self.get_object()
        service(evidence=evidence, learner=self.request.user)
        return Response(self.get_serializer(evidence).data)

    @extend_schema(
        request=None,
        responses={
            200: EvidenceSerializer,
            400: OpenApiResponse(ErrorSerializer, "The claim no longer takes evidence."),
            409: CONFLICT,
        },
    )
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str) -> Response:
        return self._transition(services.evidence_submit)

    @extend_schema(request=None, responses={200: EvidenceSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str) -> Response:
        return self._transition(services.evidence_withdraw)

    @extend_schema(request=None, responses={(200, "application/octet-stream"): bytes})
    @action(detail=True, methods=["get"], url_path="file")
    def file(self, request: Request, pk: str) -> FileResponse:
        """The uploaded file, always as a download."""
        return evidence_file_response(self.get_object())

    @extend_schema(methods=["GET"], request=None, filters=False, responses=ReviewSerializer(many=True))
    @extend_schema(methods=["POST"], request=DecisionSerializer, responses={201: ReviewSerializer, 409: CONFLICT})
    @action(detail=True, methods=["get", "post"], serializer_class=DecisionSerializer, pagination_class=None)
    def reviews(self, request: Request, pk: str) -> Response:
        evidence = self.get_object()
        if request.method == "GET":
            return Response(ReviewSerializer(evidence.reviews.select_related("reviewer"), many=True).data)
        decision = DecisionSerializer(data=request.data)
        decision.is_valid(raise_exception=True)
        review = services.review_record(evidence=evidence, reviewer=self._user(), **decision.validated_data)
        return Response(ReviewSerializer(review).data, status=status.HTTP_201_CREATED)


class StandingSerializer(serializers.Serializer[Standing]):
    # Named apart from Field's own `label` / `required` attributes.
    status = serializers.CharField()
    status_label = serializers.CharField(source="label")
    approved_required = serializers.IntegerField()
    required_claims = serializers.IntegerField(source="required")
    percent = serializers.IntegerField()


class MyStandingSerializer(StandingSerializer):
    competency = serializers.CharField()
    title = serializers.CharField()


SLUG = re.compile(r"[-a-zA-Z0-9_]{1,100}")


@extend_schema(
    responses={
        200: MyStandingSerializer(many=True),
        404: OpenApiResponse(ErrorSerializer, "No published competency with that slug (`competency`)."),
    },
    parameters=[OpenApiParameter("competency", str, description="Only this competency (slug)")],
)
@api_view(["GET"])
@permission_classes([permissions.IsAuthenticated])
def my_standing(request: Request) -> Response:
    """The caller's standing per published competency, derived from their evidence."""
    competencies = list(Competency.objects.filter(status=Competency.Status.PUBLISHED).order_by("title"))
    wanted = request.query_params.get("competency", "")
    if wanted:
        # A draft, or something that cannot be a slug, answers as an unknown slug would: 404.
        if not SLUG.fullmatch(wanted):
            raise Http404("No such competency.")
        visible = Competency.objects.exclude(status=Competency.Status.DRAFT)
        competencies = [get_object_or_404(visible, slug=wanted)]
    standings = standing_by_competency(user=request.user, competencies=competencies)
    rows = []
    for competency in competencies:
        row = StandingSerializer(standings[competency.pk]).data
        rows.append({"competency": competency.slug, "title": competency.title, **row})
    return Response(rows)
