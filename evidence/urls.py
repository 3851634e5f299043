from django.urls import path

from evidence import views

urlpatterns = [
    path("competencies/", views.competency_list, name="competency-list"),
    path("competencies/<slug:slug>/", views.competency_detail, name="competency-detail"),
    path("claims/<int:claim_id>/evidence/new/", views.evidence_new, name="evidence-new"),
    path("evidence/", views.my_evidence, name="my-evidence"),
    path("evidence/<int:pk>/", views.evidence_detail, name="evidence-detail"),
    path("evidence/<int:pk>/edit/", views.evidence_edit, name="evidence-edit"),
    path("evidence/<int:pk>/resubmit/", views.evidence_resubmit, name="evidence-resubmit"),
    path("evidence/<int:pk>/file/", views.evidence_file, name="evidence-file"),
    path("evidence/<int:pk>/review/", views.review_create, name="evidence-review"),
    path("evidence/<int:pk>/<str:action>/", views.evidence_action, name="evidence-action"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("review/", views.review_queue, name="review-queue"),
    path("review/learners/", views.mentor_learners, name="mentor-learners"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/<int:pk>/", views.notification_open, name="notification-open"),
]
