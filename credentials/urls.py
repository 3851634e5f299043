from django.urls import path

from credentials import views

urlpatterns = [
    path(".well-known/did.json", views.did_json, name="did-json"),
    path("credentials/", views.my_credentials, name="my-credentials"),
    path("credentials/verify/", views.credential_verify_page, name="credential-verify"),
    path("credentials/status/<int:pk>", views.status_list, name="credential-status-list"),
    path("credentials/<uuid:pk>/", views.credential_public, name="credential-public"),
    path("credentials/<uuid:pk>/credential.json", views.credential_json, name="credential-json"),
    path("credentials/<uuid:pk>/share/", views.credential_share, name="credential-share"),
    path("credentials/<uuid:pk>/badge.png", views.credential_badge, {"image_format": "png"}, name="credential-png"),
    path("credentials/<uuid:pk>/badge.svg", views.credential_badge, {"image_format": "svg"}, name="credential-svg"),
    path("credentials/achievements/<uuid:uuid>/badge.svg", views.achievement_badge, name="achievement-badge"),
]
