from django.urls import path

from credentials import views

urlpatterns = [
    path(".well-known/did.json", views.did_json, name="did-json"),
]
