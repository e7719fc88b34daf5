"""The roles (groups made by data migrations) and what follows from them for log-in and sessions.

Billing clerks, data protection officers and superusers are *privileged*: they need a second factor
before any page or API call, and their sessions end sooner when idle.
"""

from django.conf import settings

from staff.selectors import staff_roles_of

STAFF = "staff"
BILLING = "billing"
BAN_DECIDER = "ban_decider"
DPO = "dpo"
ROLE_GROUPS = (STAFF, BILLING, BAN_DECIDER, DPO)
PRIVILEGED_GROUPS = (BILLING, DPO)
SUPERUSER = "superuser"  # the name a change of superuser status has in the access log

# The groups the role migrations give each identity-code permission (patrons/migrations/0005_silo_roles.py).
# No other group, and no user directly, may be given them; any other silo permission is billing's alone.
SILO_APP = "sotu_silo"
SILO_PERMISSION_GROUPS = {"store_identity_code": {STAFF, BILLING}, "reveal_identity_code": {BILLING}}


def silo_permission_groups(codename: str) -> set[str]:
    return SILO_PERMISSION_GROUPS.get(codename, {BILLING})


def is_privileged(user) -> bool:
    """Whether the user must use a second factor (and gets the shorter idle timeout)."""
    if not user.is_authenticated:
        return False
    return user.is_superuser or not staff_roles_of(user).groups.isdisjoint(PRIVILEGED_GROUPS)


def idle_seconds_for(user) -> int:
    minutes = settings.SESSION_IDLE_MINUTES_PRIVILEGED if is_privileged(user) else settings.SESSION_IDLE_MINUTES
    return minutes * 60
