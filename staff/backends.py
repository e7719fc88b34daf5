"""The authentication backend: Django's ModelBackend, with the session's user loaded in one statement."""

from django.contrib.auth.backends import ModelBackend

from staff.selectors import staff_user_for_request


class StaffModelBackend(ModelBackend):
    """ModelBackend whose `get_user` (the session's user, on every request) brings the staff profile and the
    roles with the user: one query where there were three (issue 16). Log-in and permissions are ModelBackend's.
    """

    def get_user(self, user_id):
        user = staff_user_for_request(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None
