from django.apps import AppConfig


class TrackerConfig(AppConfig):
    name = "tracker"
    verbose_name = "Catalogue"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from tracker.roles import roles_ensure

        # Permissions exist only after migrate, so the groups are (re)built there, after each app.
        post_migrate.connect(roles_ensure, dispatch_uid="tracker.roles_ensure")
