"""Django's own admins of users and groups, with the service's input bounds (privacy_service.admin_bounds).

A superuser typing 0001-01-01 as a user's "date joined" was a server error when the row was saved.
"""

from django.contrib import admin
from django.contrib.auth import admin as auth_admin
from django.contrib.auth.models import Group, User

from privacy_service.admin_bounds import BoundedInputsAdmin

admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class UserAdmin(BoundedInputsAdmin, auth_admin.UserAdmin):
    pass


@admin.register(Group)
class GroupAdmin(BoundedInputsAdmin, auth_admin.GroupAdmin):
    pass
