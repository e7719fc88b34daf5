"""Gunicorn's logger for this service: no query string, Referer, header or cookie reaches its logs.

Search terms are names; a URL's query string, the Referer (the page a request came from, with its
query), HTMX's `HX-Current-URL`, `Location` (a log-in's `next`) and cookies can all carry one. The
access log therefore gets only the fields in SAFE_ATOMS, whatever `access_log_format` asks for: an
operator who adds `%(r)s`, `%(q)s`, `%(f)s` or a `%({header}i)s` gets the path without its query or
"-". In the error log, what gunicorn quotes from an unparsable request (its request line, version or
header: "Invalid HTTP Version: 'Virtanen HTTP/1.1'") and the query of a request that failed are
redacted.
Personal data in logs is processing that needs a purpose (GDPR Art. 5(1)(c), data minimisation).
"""

import logging
import re

from gunicorn import glogging

# remote address, time, method, path without the query, protocol, status, bytes, durations, worker pid
SAFE_ATOMS = frozenset({"h", "l", "t", "m", "U", "H", "s", "b", "B", "T", "D", "M", "L", "p"})
REDACTED = "[redacted]"
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_QUERY = re.compile(r"\?\S*")


def redact(text: str) -> str:
    return _QUERY.sub("?" + REDACTED, _QUOTED.sub("'" + REDACTED + "'", text))


class RedactRequestData(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.msg) if isinstance(record.msg, str) else record.msg
        if isinstance(record.args, tuple):
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        return True


class PrivacyLogger(glogging.Logger):
    def setup(self, cfg) -> None:
        super().setup(cfg)
        if not any(isinstance(existing, RedactRequestData) for existing in self.error_log.filters):
            self.error_log.addFilter(RedactRequestData())

    def atoms(self, resp, req, environ, request_time) -> dict:
        every = super().atoms(resp, req, environ, request_time)
        atoms = {key: value for key, value in every.items() if key in SAFE_ATOMS}
        atoms["r"] = f"{every['m']} {every['U']} {every['H']}"  # the request line, without its query
        return atoms
