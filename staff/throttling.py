"""API throttling by client address: the one address function (staff.client_ip), never DRF's own guess.

DRF's SimpleRateThrottle would read X-Forwarded-For by its own rules (NUM_PROXIES); a client could then
spread its requests over addresses it writes itself. Here the counter is per kind of caller (a machine
client's key, a logged-in user, anyone else) and per client address as the allow-list sees it; the rates
are settings.API_THROTTLE_RATES, read per request so a deployment (or a test) can change them. Over the
rate is a 429 `throttled` in the API's one error shape (core.api_errors), with Retry-After.
"""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from staff.client_ip import client_ip
from staff.machine_keys import is_machine_request


class ClientAddressThrottle(SimpleRateThrottle):
    def __init__(self) -> None:
        """The scope, and so the rate, is known only per request (allow_request)."""

    def caller_scope(self, request) -> str:
        if is_machine_request(request):
            return "machine"
        return "user" if request.user.is_authenticated else "anon"

    def allow_request(self, request, view) -> bool:
        self.scope = self.caller_scope(request)
        self.rate = settings.API_THROTTLE_RATES[self.scope]
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": str(client_ip(request._request) or "unknown")}
