"""Roles are groups with permissions. `roles_ensure` (run after every migrate) keeps them in shape."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

from tracker.models import ADMIN, LEARNER, MENTOR, User

# (app_label, codename) pairs per role; admins get every permission of the product's apps.
ROLE_PERMISSIONS: dict[str, list[tuple[str, str]]] = {
    LEARNER: [
        ("tracker", "view_competency"),
        ("evidence", "add_evidence"),
        ("evidence", "view_evidence"),
    ],
    MENTOR: [
        ("tracker", "view_competency"),
        ("evidence", "view_evidence"),
        ("evidence", "add_review"),
        ("evidence", "view_review"),
    ],
}
# axes: its access attempts, whose deletion lifts a login lockout.
ADMIN_APPS = ("tracker", "evidence", "trainer", "axes")


def roles_ensure(**_: object) -> None:
    for role in (LEARNER, MENTOR, ADMIN):
        group, _created = Group.objects.get_or_create(name=role)
        group.permissions.set(_permissions_for(role))


def _permissions_for(role: str) -> list[Permission]:
    if role == ADMIN:
        return list(Permission.objects.filter(content_type__app_label__in=ADMIN_APPS))
    query = Q(pk__in=[])
    for app_label, codename in ROLE_PERMISSIONS[role]:
        query |= Q(content_type__app_label=app_label, codename=codename)
    return list(Permission.objects.filter(query))


def role_grant(*, user: User, role: str) -> None:
    """Add a role; admins also become staff so that they can use the Django admin."""
    user.groups.add(Group.objects.get(name=role))
    if role == ADMIN and not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    user.__dict__.pop("_group_names", None)
