"""The session store: Django's database sessions, with its one read per request as a plain statement.

Why: every logged-in request reads its session row, and Django's database store builds that query with the ORM
each time (`Session.objects.get(session_key=..., expire_date__gt=now)`): about a twentieth of the patron detail
API's CPU (issue 16). The statement here is the same: the row of this key only while it has not expired, so an
expired, deleted (logged out, revoked) or unknown key loads nothing and the key is dropped, as in Django's.
Writing, creating, deleting and clearing expired sessions are Django's, unchanged.
"""

from typing import Any, cast

from django.contrib.sessions.backends import db
from django.db import connections, router
from django.utils import timezone

# Django's Session model (django.contrib.sessions.models): its table and columns.
_READ = 'SELECT "session_data", "expire_date" FROM "django_session" WHERE "session_key" = %s AND "expire_date" > %s'


class SessionStore(db.SessionStore):
    def _get_session_from_db(self) -> Any:
        model = self.model
        connection = connections[router.db_for_read(model)]
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        with connection.cursor() as cursor:
            cursor.execute(_READ, [self.session_key, now])
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        return model(session_key=cast(str, self.session_key), session_data=row[0], expire_date=row[1])
