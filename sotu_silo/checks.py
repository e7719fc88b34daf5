from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured


@register()
def sotu_keys_check(app_configs, **kwargs):
    """Bad silo keys stop the start (and `manage.py check`), not the first reveal."""
    from sotu_silo.crypto import keyring

    try:
        keyring()
    except ImproperlyConfigured as error:
        return [Error(str(error), id="sotu_silo.E001")]
    return []
