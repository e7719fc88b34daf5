"""core.compiled_query: a statement compiled once answers every later call with that call's values, the rows read
afresh each time; a query that depends on anything but its values is refused, never cached. And
core.api_fields.FieldsBuiltOnce: each serializer instance gets fields of its own."""

import itertools

import pytest
from django.contrib.auth.models import Group

from core.api_fields import FieldsBuiltOnce
from core.compiled_query import CompiledQuery, CompiledQueryError
from patrons.serializers import GuardianSerializer, PatronDetailSerializer, PatronListSerializer

pytestmark = pytest.mark.django_db


def groups_named(_key, *, group_id: int):
    return Group.objects.filter(pk=group_id).order_by("pk")


def test_each_call_gets_its_own_values_and_fresh_rows():
    one, two = Group.objects.create(name="one"), Group.objects.create(name="two")
    query = CompiledQuery(groups_named, names=("group_id",))
    assert [g.name for g in query.objects(group_id=one.pk)] == ["one"]
    assert [g.name for g in query.objects(group_id=two.pk)] == ["two"]  # the same statement, the other value
    Group.objects.filter(pk=one.pk).update(name="renamed")
    assert [g.name for g in query.objects(group_id=one.pk)] == ["renamed"]  # no row is kept
    assert query.objects(group_id=two.pk + 1000) == []


def fields_of(obj) -> dict:
    return {name: value for name, value in vars(obj).items() if not name.startswith("_")}


def test_the_two_hot_queries_give_what_the_orm_gives(lapland_patron):
    """The session's user (staff profile chain, roles) and the patron of a staff read (related rows, EXISTS)."""
    from django.contrib.auth import get_user_model

    from core.dates import today
    from patrons.selectors import _PATRON_RECORD, _patron_with_presences
    from staff.selectors import _USER_FOR_REQUEST, _user_with_roles

    user = get_user_model().objects.get(username="rovaniemi.staff")
    (compiled,) = _USER_FOR_REQUEST.objects(user_id=user.pk)
    (orm,) = _user_with_roles(None, user_id=user.pk)
    assert fields_of(compiled) == fields_of(orm)
    assert compiled.role_groups and compiled.role_group_permissions  # the annotations, not None
    profile, orm_profile = compiled.staff_profile, orm.staff_profile
    assert fields_of(profile) == fields_of(orm_profile)
    assert fields_of(profile.home_library.municipality.consortium) == fields_of(
        orm_profile.home_library.municipality.consortium
    )

    day = today()
    consortium_id = lapland_patron.consortium_id
    (patron,) = _PATRON_RECORD.objects(key=day, consortium_id=consortium_id, patron_id=lapland_patron.pk)
    (orm_patron,) = _patron_with_presences(day, consortium_id=consortium_id, patron_id=lapland_patron.pk)
    assert fields_of(patron) == fields_of(orm_patron)
    assert patron.has_guardians is True  # the fixture's patron has guardians
    assert fields_of(patron.home_library.municipality) == fields_of(orm_patron.home_library.municipality)
    assert fields_of(patron.consortium) == fields_of(orm_patron.consortium)
    # Another consortium's id finds nothing with the same statement.
    assert _PATRON_RECORD.objects(key=day, consortium_id=consortium_id + 1000, patron_id=lapland_patron.pk) == []


def test_the_kept_converters_convert_every_later_call(lapland_patron):
    """The select's converters are looked up on a statement's first run and kept: later calls, for other rows,
    still get converted values (on SQLite a date comes back as text without them)."""
    from core.dates import today
    from patrons.models import Patron
    from patrons.selectors import _PATRON_RECORD, _patron_with_presences

    day = today()
    consortium_id = lapland_patron.consortium_id
    others = Patron.objects.filter(consortium_id=consortium_id).exclude(pk=lapland_patron.pk).order_by("pk")[:3]
    assert others
    for patron_id in [lapland_patron.pk, *(p.pk for p in others), lapland_patron.pk]:
        (patron,) = _PATRON_RECORD.objects(key=day, consortium_id=consortium_id, patron_id=patron_id)
        (orm_patron,) = _patron_with_presences(day, consortium_id=consortium_id, patron_id=patron_id)
        assert fields_of(patron) == fields_of(orm_patron)
        assert isinstance(patron.created_at, type(orm_patron.created_at))
        assert type(patron.card_expires_on) is type(orm_patron.card_expires_on)


def test_the_session_users_permissions_are_model_backends(lapland_patron):
    """The session's user query names permissions by content type id; has_perm sees "app_label.codename", exactly
    what Django's ModelBackend reads for the same user, own and through groups."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.backends import ModelBackend
    from django.contrib.auth.models import Permission

    from staff.selectors import staff_roles_of, staff_user_for_request

    user = get_user_model().objects.get(username="rovaniemi.staff")
    user.user_permissions.add(Permission.objects.get(codename="view_group"))  # one of the user's own too
    loaded = staff_user_for_request(user.pk)
    fresh = get_user_model().objects.get(pk=user.pk)
    expected = ModelBackend().get_all_permissions(fresh)
    assert "auth.view_group" in expected and len(expected) > 1
    assert set(staff_roles_of(loaded).permissions) == expected
    assert loaded.has_perm("auth.view_group")


def test_the_key_is_passed_to_the_build_and_keys_its_statement():
    one = Group.objects.create(name="keyed")
    seen = []

    def build(key, *, group_id: int):
        seen.append(key)
        return Group.objects.filter(pk=group_id, name=key)

    query = CompiledQuery(build, names=("group_id",))
    assert query.objects(key="keyed", group_id=one.pk) == [one]
    assert query.objects(key="other", group_id=one.pk) == []
    assert query.objects(key="keyed", group_id=one.pk) == [one]
    assert seen == ["keyed", "keyed", "other", "other"]  # two builds per key, then none


def test_a_query_that_depends_on_something_else_is_refused():
    counter = itertools.count(1)
    query = CompiledQuery(
        lambda _key, *, group_id: Group.objects.filter(pk=group_id, name=f"n{next(counter)}"), names=("group_id",)
    )
    with pytest.raises(CompiledQueryError):
        query.objects(group_id=1)


def test_a_value_the_query_does_not_use_is_refused():
    query = CompiledQuery(lambda _key, *, group_id: Group.objects.all(), names=("group_id",))
    with pytest.raises(CompiledQueryError):
        query.objects(group_id=1)


def test_values_must_be_the_named_ones():
    query = CompiledQuery(groups_named, names=("group_id",))
    with pytest.raises(TypeError):
        query.objects(other=1)


@pytest.mark.parametrize("serializer", [PatronListSerializer, GuardianSerializer])
def test_fields_built_once_are_copies_for_each_instance(serializer):
    assert issubclass(serializer, FieldsBuiltOnce)
    first, second = serializer().fields, serializer().fields
    assert list(first) == list(second)
    for name in first:
        assert first[name] is not second[name]  # DRF binds a field to its serializer: never shared
        assert first[name].parent is not second[name].parent
        assert serializer._fields_built_once[name].parent is None  # the kept fields are never bound


def test_a_nested_field_built_once_sees_its_own_serializers_context():
    """A field with a child (the guardians' list) is copied deeply: its child's context is this serializer's, not
    the first one's (a shared child would keep the parent it was bound to when the fields were built)."""
    first = PatronDetailSerializer(context={"record": "first"})
    second = PatronDetailSerializer(context={"record": "second"})
    assert first.fields["guardians"].child.context == {"record": "first"}
    assert second.fields["guardians"].child.context == {"record": "second"}
    assert second.fields["notices_to"].context == {"record": "second"}
