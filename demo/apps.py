from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data and `manage.py seed_demo`. The top floor: nothing imports it but the command and the tests."""

    name = "demo"
