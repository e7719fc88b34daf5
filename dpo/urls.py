"""The DPO's pages beside the admin site, under /admin/dpo/ (access reports, erasure, the access review).

They use the admin's look but are ordinary views: each one asks patrons.access for its actor, so the
role and network rules are the same as everywhere else.
"""

app_name = "dpo"

urlpatterns: list = []
