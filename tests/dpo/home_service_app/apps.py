from django.apps import AppConfig


class HomeServiceConfig(AppConfig):
    """A stand-in for an app added later (the home service's deliveries): it only declares a privacy contract."""

    name = "tests.dpo.home_service_app"
    label = "home_service_app"
