from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from credentials.api import CredentialDetail, CredentialList, CredentialVerify
from evidence.api import my_standing
from tracker import api, views
from tracker.project import views as site
from tracker.project.metrics import metrics_view
from trainer.api import TaskSpecViewSet, TrainingEvidenceViewSet, TrainingRunViewSet

router = SimpleRouter()
# Evidence of every kind; the trainer's view adds training uploads (trained first, then filed).
router.register("evidence", TrainingEvidenceViewSet, basename="api-evidence")
router.register("tasks", TaskSpecViewSet, basename="api-task")
router.register("runs", TrainingRunViewSet, basename="api-run")

api_patterns = [
    *router.urls,
    path("me/standing/", my_standing, name="api-my-standing"),
    path("credentials/", CredentialList.as_view(), name="api-credential-list"),
    path("credentials/verify/", CredentialVerify.as_view(), name="api-credential-verify"),
    path("credentials/<uuid:pk>/", CredentialDetail.as_view(), name="api-credential-detail"),
    path("auth/token/", api.ObtainTokenView.as_view(), name="api-token"),
    path("competencies/", api.CompetencyList.as_view(), name="api-competency-list"),
    path("competencies/<slug:slug>/", api.CompetencyDetail.as_view(), name="api-competency-detail"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file: no inline script, so script-src stays 'self'.
    # Swagger UI injects <style> elements, so this page alone allows inline styles.
    path(
        "docs/",
        csp_update({"style-src": ["'self'", "'unsafe-inline'"]})(
            SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="tracker/api_docs.html")
        ),
        name="api-docs",
    ),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("", include("evidence.urls")),
    path("", include("trainer.urls")),
    path("", include("credentials.urls")),
    # The URIs of the CASE export's records (tracker/formats/case.py), without a trailing slash, as published.
    path("case/<uuid:identifier>", views.case_node, name="case-node"),
    path("frameworks/", views.framework_list, name="framework-list"),
    path("frameworks/<uuid:uuid>/", views.framework_detail, name="framework-detail"),
    path("accounts/signup/", views.signup, name="signup"),
    path("accounts/signup/done/", views.signup_done, name="signup-done"),
    path("accounts/activate/<str:uidb64>/<str:token>/", views.activate, name="activate"),
    path("accounts/password_reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("accounts/tokens/", views.api_tokens, name="api-tokens"),
    path("accounts/tokens/<int:token_id>/revoke/", views.api_token_revoke, name="api-token-revoke"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("api/", include(api_patterns)),
    path("healthz", site.healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
    path("favicon.ico", site.favicon),
]

handler404 = "tracker.project.views.page_not_found"
handler500 = "tracker.project.views.server_error"
