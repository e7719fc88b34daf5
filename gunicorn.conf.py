"""Gunicorn settings for running the service in production; see README.md, "Production server".

`gunicorn` started in the repository root reads this file. Settings come from the environment
(GUNICORN_BIND, WEB_CONCURRENCY, GUNICORN_ACCESS_LOG, GUNICORN_ERROR_LOG, TRUSTED_PROXIES) besides
the service's own (PRIVACY_SERVICE_ENV=production, SECRET_KEY, DATABASE_URL...).

The access log carries no query string, Referer, user agent, header or cookie: searches are names,
and any of these can hold one (privacy_service/gunicorn_logging.py enforces it whatever the format).
"""

import os

wsgi_app = "privacy_service.wsgi:application"

# Behind a reverse proxy that terminates TLS, on this machine's loopback by default.
bind = [os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")]
# Synchronous workers: each is a process with its own allow-list (a network change reaches them all
# within a second, staff/ip_allowlist.py). (2 x cores) + 1 is gunicorn's own advice.
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1) + 1))
timeout = 60  # a PDF (decision, access report) takes well under a second; a stuck worker is restarted
graceful_timeout = 30
max_requests = 2000  # recycle workers now and then, with jitter so they do not restart together
max_requests_jitter = 200
# The proxies whose X-Forwarded-Proto gunicorn believes: the same list Django trusts (client_ip.py).
forwarded_allow_ips = os.environ.get("TRUSTED_PROXIES", "")
proxy_allow_ips = ""  # no PROXY protocol
control_socket_disable = True  # no runtime control socket (gunicornc): one less way in; restart to change

logger_class = "privacy_service.gunicorn_logging.PrivacyLogger"
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
loglevel = "info"
# Client (or proxy) address, time, method, path WITHOUT the query (%(U)s, never %(r)s or %(q)s),
# protocol, status, bytes, milliseconds and the worker's pid. No %(f)s (Referer), %(a)s (user agent),
# %(u)s or headers.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms %(p)s'
proc_name = "privacy_service"
