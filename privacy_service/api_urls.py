"""The JSON API, /api/v1/: the patron register's endpoints and the data protection officer's."""

from dpo.api_urls import urlpatterns as dpo_urls
from patrons.api_urls import urlpatterns as patron_urls

urlpatterns = [*patron_urls, *dpo_urls]
