from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The ground the apps stand on: dates and statutory time limits, the error vocabulary, input bounds,
    printable documents and progress output. It imports no app of the service."""

    name = "core"
