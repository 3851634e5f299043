"""Training API: task specs (public), runs (object-level permissions through their evidence)."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, Http404
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from evidence.api import EvidenceViewSet
from evidence.models import Kind
from tracker.models import User
from trainer import selectors, services
from trainer.datasets.registry import dataset_files
from trainer.models import TaskSpec, TrainingRun
from trainer.serializers import TaskSpecSerializer, TrainingEvidenceSerializer, TrainingRunSerializer


class TaskSpecViewSet(viewsets.ReadOnlyModelViewSet[TaskSpec]):
    """Keras tasks: brief, metric, threshold, budgets, and the `spec` passed to build_model(spec)."""

    serializer_class = TaskSpecSerializer
    permission_classes = [permissions.AllowAny]
    lookup_field = "slug"

    def get_queryset(self) -> Any:
        return selectors.tasks_all_active().prefetch_related("also_claims")

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


class TrainingRunViewSet(viewsets.ReadOnlyModelViewSet[TrainingRun]):
    """Runs of evidence you may see: status, live progress, trusted metrics."""

    serializer_class = TrainingRunSerializer
    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self) -> Any:
        return selectors.runs_visible_to(self.request.user).order_by("-pk")

    @extend_schema(request=None, responses={(200, "application/octet-stream"): bytes})
    @action(detail=True, methods=["get"], url_path="model")
    def model(self, request: Request, pk: str) -> FileResponse:
        """The trained model.keras, as the platform saved it."""
        path = self.get_object().artifact_path("model.keras")
        if path is None:
            raise Http404("This run has no model.")
        return FileResponse(open(path, "rb"), as_attachment=True, filename=f"run-{pk}-model.keras")

    @extend_schema(request=None, responses=TrainingRunSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        run = self.get_object()
        assert isinstance(request.user, User)
        run = services.run_cancel(run=run, user=request.user)
        return Response(self.get_serializer(run).data)


class TrainingEvidenceViewSet(EvidenceViewSet):
    """`/api/evidence/` with training: a `kind=training` upload is trained first, then filed (by the trainer)."""

    serializer_class = TrainingEvidenceSerializer

    def get_queryset(self) -> Any:
        return super().get_queryset().select_related("run")

    def perform_create(self, serializer: Any) -> None:
        data = serializer.validated_data
        if data["kind"] != Kind.TRAINING or data.get("file") is None:
            super().perform_create(serializer)
            return
        serializer.instance = services.training_submit(
            learner=self._user(), claim=data["claim"], upload=data["file"], task_slug=data.get("task")
        )
