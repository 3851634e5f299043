from django.apps import AppConfig


class CredentialsConfig(AppConfig):
    name = "credentials"
    verbose_name = "Credentials"

    def ready(self) -> None:
        # The signing-key check registers itself; the receivers issue credentials when evidence is approved.
        from credentials import checks, receivers  # noqa: F401
