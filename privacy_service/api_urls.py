"""The JSON API, /api/v1/: the patron register's endpoints, the silo's, the ban procedure's, the data protection
officer's and the machine API Koha calls."""

from bans.api_urls import urlpatterns as ban_urls
from dpo.api_urls import urlpatterns as dpo_urls
from koha.api_urls import urlpatterns as koha_urls
from patrons.api_urls import urlpatterns as patron_urls
from sotu_silo.api_urls import urlpatterns as silo_urls

urlpatterns = [*patron_urls, *silo_urls, *ban_urls, *dpo_urls, *koha_urls]
