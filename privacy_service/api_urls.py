"""The JSON API, /api/v1/: the patron register's endpoints, the ban procedure's and the data protection officer's."""

from bans.api_urls import urlpatterns as ban_urls
from dpo.api_urls import urlpatterns as dpo_urls
from patrons.api_urls import urlpatterns as patron_urls

urlpatterns = [*patron_urls, *ban_urls, *dpo_urls]
