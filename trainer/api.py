"""Training API: tasks (public, tiny variants for staff only), attempts (the caller's; mentors and admins
see more), and training evidence filed from a finished attempt."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from evidence.api import EvidenceViewSet
from evidence.models import Kind
from tracker.models import Claim, User
from tracker.openapi import CONFLICT, OVER_QUOTA, ErrorSerializer
from tracker.parsers import BoundedJSONParser
from trainer import filings, selectors, services
from trainer.datasets.registry import dataset_files
from trainer.errors import TrainingError
from trainer.models import TaskSpec, TrainingRun
from trainer.serializers import (
    AttemptSubmitSerializer,
    TaskSpecDetailSerializer,
    TaskSpecSerializer,
    TrainingEvidenceSerializer,
    TrainingRunSerializer,
)

# The largest primary key the databases hold (a signed 64-bit integer).
MAX_ID = 2**63 - 1


def _user(request: Request) -> User:
    assert isinstance(request.user, User)  # IsAuthenticated ran first
    return request.user


class TaskSpecViewSet(viewsets.ReadOnlyModelViewSet[TaskSpec]):
    """Keras tasks: brief, metric, threshold, budgets, and the `spec` passed to build_model(spec)."""

    permission_classes = [permissions.AllowAny]
    lookup_field = "slug"

    def get_queryset(self) -> Any:
        return selectors.tasks_visible_to(self.request.user).prefetch_related("also_claims")

    def get_serializer_class(self) -> Any:
        return TaskSpecDetailSerializer if self.action == "retrieve" else TaskSpecSerializer

    @extend_schema(request=None, responses={(200, "application/octet-stream"): bytes})
    @action(
        detail=True, methods=["get"], url_path=r"data/(?P<name>[\w.-]+)",
        permission_classes=[permissions.IsAuthenticated],
    )  # fmt: skip
    def data(self, request: Request, slug: str, name: str) -> FileResponse:
        """Files a sandbox gets anyway, to try a model before submitting: `train.npz` (the training split)
        and, for the fine-tuning task, `base.keras`. Never the test labels: they are not among the names served."""
        files = dataset_files(self.get_object().dataset)
        served = {"train.npz": files["train"]}
        served |= {key.removeprefix("shared/"): path for key, path in files.items() if key.startswith("shared/")}
        path = served.get(name)
        if path is None or not path.is_file():
            raise Http404("No such file for this task.")
        return FileResponse(open(path, "rb"), as_attachment=True, filename=f"{slug}-{name}")

    @extend_schema(
        request={"multipart/form-data": AttemptSubmitSerializer},
        responses={201: TrainingRunSerializer, 429: OVER_QUOTA},
    )
    @action(
        detail=True, methods=["post"], url_path="runs", permission_classes=[permissions.IsAuthenticated],
        parser_classes=[MultiPartParser, FormParser], serializer_class=AttemptSubmitSerializer,
    )  # fmt: skip
    def runs(self, request: Request, slug: str) -> Response:
        """Submit an attempt. 429 with Retry-After when over the quota (`GET /api/tasks/<slug>/` shows it)."""
        task = self.get_object()
        form = AttemptSubmitSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        claim = Claim.objects.filter(pk=data["claim"]).first() if "claim" in data else None
        if "claim" in data and claim is None:
            raise TrainingError(f"There is no claim {data['claim']}.", status=400)
        run = services.attempt_submit(
            learner=_user(request),
            task=task,
            upload=data["file"],
            claim=claim,
            file_if_passes=data["file_if_passes"],
            engine=data.get("engine") or None,
        )
        return Response(TrainingRunSerializer(run, context={"request": request}).data, status=status.HTTP_201_CREATED)


class RunListParams(serializers.Serializer[Any]):
    """Query parameters of the attempt list (a bad value answers 400 naming it)."""

    task = serializers.SlugField(max_length=100, required=False, allow_blank=True)


@extend_schema_view(  # the list's parameters only: the other operations ignore them
    list=extend_schema(
        parameters=[
            OpenApiParameter("task", str, description="Only attempts at this task (slug)"),
            OpenApiParameter(
                "learner", int, description="Mentors and admins: this learner's attempts (default: yours)"
            ),
        ]
    )
)
class TrainingRunViewSet(viewsets.ReadOnlyModelViewSet[TrainingRun]):
    """Attempts: the list is the caller's own (or, for mentors and admins, a learner's); each run is visible
    to its learner, the mentors of its task's competency, and admins."""

    serializer_class = TrainingRunSerializer
    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self) -> Any:
        runs = selectors.runs_visible_to(self.request.user).prefetch_related("filings").order_by("-pk")
        if self.action != "list":
            return runs
        params = self.request.query_params
        checked = RunListParams(data=params)
        checked.is_valid(raise_exception=True)
        if checked.validated_data.get("task"):
            runs = runs.filter(task__slug=checked.validated_data["task"])
        learner = params.get("learner", "")
        if not learner:
            return runs.filter(learner_id=self.request.user.pk)
        # An id that cannot exist answers like one that is hidden: the same empty list, never a 500.
        if not (learner.isascii() and learner.isdigit()) or int(learner) > MAX_ID:
            return runs.none()
        return runs.filter(learner_id=int(learner))

    @extend_schema(request=None, responses={(200, "application/octet-stream"): bytes})
    @action(detail=True, methods=["get"], url_path="model")
    def model(self, request: Request, pk: str) -> FileResponse:
        """The trained model.keras, as the platform saved it."""
        path = self.get_object().artifact_path("model.keras")
        if path is None:
            raise Http404("This run has no model.")
        return FileResponse(open(path, "rb"), as_attachment=True, filename=f"run-{pk}-model.keras")

    @extend_schema(request=None, responses={200: TrainingRunSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        run = services.run_cancel(run=self.get_object(), user=_user(request))
        return Response(self.get_serializer(run).data)


class TrainingEvidenceViewSet(EvidenceViewSet):
    """`/api/evidence/` with training: `kind=training` with `run` files that finished attempt of yours; with a
    `file` (notebooks handed out before attempts existed) it submits an attempt filed if it passes."""

    serializer_class = TrainingEvidenceSerializer
    parser_classes = [BoundedJSONParser, MultiPartParser, FormParser]

    def get_queryset(self) -> Any:
        return super().get_queryset().select_related("filing")

    @extend_schema(
        responses={
            201: TrainingEvidenceSerializer,
            404: OpenApiResponse(ErrorSerializer, "No such finished attempt of yours (`run`)."),
            409: CONFLICT,
            429: OVER_QUOTA,
        }
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data["kind"] != Kind.TRAINING or (data.get("file") is None and data.get("run") is None):
            return super().create(request, *args, **kwargs)
        if data.get("run") is not None:
            mine = TrainingRun.objects.filter(learner=_user(request))
            run = get_object_or_404(mine, pk=data["run"])
            companion = None if data.get("companion") is None else get_object_or_404(mine, pk=data["companion"])
            evidence = filings.run_file(
                run=run, learner=_user(request), claim=data["claim"], note=data.get("note", ""), companion=companion
            )
            return Response(self.get_serializer(evidence).data, status=status.HTTP_201_CREATED)
        task = services.task_for_claim(data["claim"], data.get("task"))
        run = services.attempt_submit(
            learner=_user(request), task=task, upload=data["file"], claim=data["claim"], file_if_passes=True
        )
        body = TrainingRunSerializer(run, context={"request": request}).data
        return Response({**body, "run": run.pk, "kind": Kind.TRAINING}, status=status.HTTP_201_CREATED)
