"""Where a staff user belongs (their profile, municipality and consortium) and what roles they hold."""

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import CharField, F, OuterRef, QuerySet, StringAgg, Subquery, Value
from django.db.models.functions import Cast, Concat

from core.compiled_query import CompiledQuery
from staff.models import StaffProfile


def staff_profile_of(user) -> StaffProfile | None:
    """The user's StaffProfile with library, municipality and consortium, or None; cached on the user object, so
    the page's language (the consortium's jurisdiction) and later code share one query."""
    if user is None or not user.is_authenticated:
        return None
    if not hasattr(user, "_staff_profile_cache"):
        user._staff_profile_cache = (
            StaffProfile.objects.select_related("home_library__municipality__consortium")
            .filter(user_id=user.pk)
            .first()
        )
    return user._staff_profile_cache


@dataclass(frozen=True)
class StaffRoles:
    """The groups a user is in and the permissions granted to them or their groups ("app.codename")."""

    groups: frozenset[str]
    permissions: frozenset[str]


def staff_roles_of(user) -> StaffRoles:
    """The user's groups and granted permissions, cached on the user object of this request.

    The request's user is loaded afresh from the database on every request (with its roles in the same
    statement, `staff_user_for_request`), so a revoked role counts from the next request on: nothing is kept
    between requests. A user loaded some other way (a log-in, a test) costs one query here. A non-superuser's
    permissions also fill ModelBackend's per-user cache (`_perm_cache`, what `user.has_perm` would otherwise read
    with two queries); a superuser's blanket permissions are left to the backend.
    """
    if user is None or not user.is_authenticated:
        return StaffRoles(frozenset(), frozenset())
    if not hasattr(user, "_staff_roles_cache"):
        label = _permission_label()
        rows = (
            Group.objects.filter(user=user)
            .annotate(kind=Value("group", output_field=CharField()), label=F("name"))
            .values_list("kind", "label")
            .order_by()
            .union(
                Permission.objects.filter(user=user)
                .annotate(kind=Value("permission", output_field=CharField()), label=label)
                .values_list("kind", "label")
                .order_by(),
                Permission.objects.filter(group__user=user)
                .annotate(kind=Value("permission", output_field=CharField()), label=label)
                .values_list("kind", "label")
                .order_by(),
                all=True,
            )
        )
        found: dict[str, set[str]] = {"group": set(), "permission": set()}
        for kind, value in rows:
            found[kind].add(value)
        _roles_cache_fill(user, groups=found["group"], permissions=found["permission"])
    return user._staff_roles_cache


def _permission_label() -> Concat:
    """A permission as has_perm names it: "app_label.codename"."""
    return Concat("content_type__app_label", Value("."), "codename", output_field=CharField())


def _roles_cache_fill(user, *, groups: set[str], permissions: set[str]) -> None:
    user._staff_roles_cache = StaffRoles(frozenset(groups), frozenset(permissions))
    if user.is_active and not user.is_superuser:
        user._perm_cache = set(permissions)


# Between the names of one aggregated column: a control character no group name or permission label holds.
_SEPARATOR = "\x1f"


def _names(queryset, label) -> Subquery:
    """`label` of every row of `queryset` (filtered on the outer user), joined by _SEPARATOR: one scalar subquery."""
    joined = StringAgg(label, Value(_SEPARATOR), output_field=CharField())
    return Subquery(queryset.order_by().annotate(one=Value(1)).values("one").annotate(names=joined).values("names"))


def _split(names: str | None) -> set[str]:
    return set(names.split(_SEPARATOR)) if names else set()


def _permission_by_type_id() -> Concat:
    """A permission as "content type id.codename": the app label is looked up in Django's content type cache
    (`_permission_names`), not joined in the statement. The join to django_content_type in two of the three
    subqueries was a quarter of PostgreSQL's planning of the session's user query (about 0.2 of 0.8 ms on a
    loaded machine), on every request (issue 16). Content types are made by migrations, never by requests, and
    a content type the cache does not know is read from the database."""
    return Concat(Cast("content_type_id", CharField()), Value("."), "codename", output_field=CharField())


def _permission_names(labels: set[str]) -> set[str]:
    """Labels "content type id.codename" (`_permission_by_type_id`) as has_perm names them: "app_label.codename"."""
    names = set()
    for label in labels:
        type_id, codename = label.split(".", 1)
        names.add(f"{ContentType.objects.get_for_id(int(type_id)).app_label}.{codename}")
    return names


def _user_with_roles(_key: None, *, user_id: int) -> QuerySet:
    """The query of staff_user_for_request: the user, the staff profile's chain, and the roles in three
    aggregated columns (what `first()` asked: ordered by the key, one row)."""
    label = _permission_by_type_id()
    return (
        get_user_model()
        ._default_manager.select_related("staff_profile__home_library__municipality__consortium")
        .annotate(
            role_groups=_names(Group.objects.filter(user=OuterRef("pk")), F("name")),
            role_own_permissions=_names(Permission.objects.filter(user=OuterRef("pk")), label),
            role_group_permissions=_names(Permission.objects.filter(group__user=OuterRef("pk")), label),
        )
        .filter(pk=user_id)
        .order_by("pk")[:1]
    )


# Compiled once per worker thread (core/compiled_query.py): the statement, never a row, is kept.
_USER_FOR_REQUEST = CompiledQuery(_user_with_roles, names=("user_id",))


def staff_user_for_request(user_id: Any) -> Any:
    """The user of a session, with their staff profile (library, municipality, consortium), groups and granted
    permissions in one statement, or None; the authentication backend's `get_user` (staff/backends.py).

    Read afresh on every request, so a changed role, permission, profile, deactivation or password counts from
    the very next request (nothing of the user is kept between requests: only the statement's SQL, compiled once
    per worker thread, core/compiled_query.py); what `staff_profile_of` and `staff_roles_of` would each have
    asked separately is already on the user object.
    """
    users = _USER_FOR_REQUEST.objects(user_id=get_user_model()._meta.pk.get_prep_value(user_id))
    if not users:
        return None
    user: Any = users[0]
    try:
        user._staff_profile_cache = user.staff_profile
    except ObjectDoesNotExist:
        user._staff_profile_cache = None
    permissions = _permission_names(_split(user.role_own_permissions) | _split(user.role_group_permissions))
    _roles_cache_fill(user, groups=_split(user.role_groups), permissions=permissions)
    return user


def jurisdiction_of(consortium_id: int | None) -> str | None:
    from staff.models import Consortium

    if consortium_id is None:
        return None
    return Consortium.objects.filter(pk=consortium_id).values_list("jurisdiction", flat=True).first()


def jurisdiction_of_user(user) -> str | None:
    """The jurisdiction of the user's consortium, from the cached staff profile (no query of its own)."""
    profile = staff_profile_of(user)
    return profile.home_library.municipality.consortium.jurisdiction if profile else None


def consortium_id_of(user) -> int | None:
    profile = staff_profile_of(user)
    return profile.consortium_id if profile else None


def jurisdiction_of_slug(slug: str) -> str | None:
    """The jurisdiction of the consortium with this short name (the public privacy notice's address), or None."""
    from staff.models import Consortium

    return Consortium.objects.filter(slug=slug).values_list("jurisdiction", flat=True).first()
