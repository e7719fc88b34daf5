"""The service's admin site: the DPO's and the administrators' pages, opened by the same check as the staff pages.

Django's admin asks only for an active `is_staff` user; here a staff member also needs a staff profile
and a signed confidentiality agreement (staff.access.admin_access_check), as for every staff page.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from staff.access import admin_access_check


class PrivacyAdminSite(admin.AdminSite):
    site_header = _("Patron privacy service: administration")
    site_title = _("Patron privacy service")
    index_title = _("Data protection and administration")

    def has_permission(self, request):
        return admin_access_check(request)
