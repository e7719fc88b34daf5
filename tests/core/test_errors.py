"""The one error vocabulary (core.errors): services speak it, pages and the API answer it.

Services and selectors never import django.http: a missing object is a NotFound and a refusal a Refused,
and the web layer (core.error_pages for pages, core.api_errors for the API) gives the 404 or 403.
"""

from pathlib import Path

import pytest
from django.test import RequestFactory
from django.utils.translation import gettext, override

from core.api_errors import api_exception_handler
from core.error_pages import ErrorVocabularyMiddleware
from core.errors import NotFound, Refused
from tests.test_layers import ROOT, module_imports, service_modules

pytestmark = pytest.mark.django_db


def _service_and_selector_modules():
    for _app, module, path in service_modules():
        if any(part.startswith(("services", "selectors")) or part.endswith("_selectors") for part in module.split(".")):
            yield module, path


def _imports_django_http(module: str, path: Path) -> list[int]:
    """Lines importing django.http at run time (an import for a type hint under TYPE_CHECKING is no answer)."""
    return [
        line
        for line, name in module_imports(module, path, type_hints=False)
        if name == "django.http" or name.startswith("django.http.")
    ]


def test_services_and_selectors_do_not_import_django_http():
    modules = list(_service_and_selector_modules())
    assert len(modules) > 10, modules  # the walk finds them: a test that cannot fail is a defect
    found = {
        f"{path.relative_to(ROOT)}:{line}" for module, path in modules for line in _imports_django_http(module, path)
    }
    assert not found, f"raise core.errors.NotFound or Refused instead of django.http's exceptions: {sorted(found)}"


def _page(exception: Exception):
    request = RequestFactory().get("/patrons/1/")
    return ErrorVocabularyMiddleware(lambda request: None).process_exception(request, exception)


def test_a_pages_not_found_is_the_404_page():
    response = _page(NotFound())
    assert response.status_code == 404
    assert b"<html" in response.content


def test_a_pages_refusal_is_the_403_page_with_its_message():
    with override("en"):
        response = _page(Refused("Your role does not allow this."))
    assert response.status_code == 403
    assert b"Your role does not allow this." in response.content


def test_other_exceptions_are_left_to_django():
    assert _page(ValueError("x")) is None


class _Erased(NotFound):
    code = "patron_erased"


class _Unreadable(Refused):
    code = "unreadable"
    status = 409


@pytest.mark.parametrize(
    ("exception", "status", "code", "detail"),
    [
        (NotFound(), 404, "not_found", "Not found."),
        (_Erased("The patron's data has been erased."), 404, "patron_erased", "The patron's data has been erased."),
        (Refused(), 403, "permission_denied", "You do not have permission to perform this action."),
        (Refused("Your role does not allow this."), 403, "permission_denied", "Your role does not allow this."),
        (_Unreadable("Not shown."), 409, "unreadable", "Not shown."),
    ],
)
def test_the_api_answers_the_vocabulary_in_one_shape(exception, status, code, detail):
    with override("en"):
        response = api_exception_handler(exception, {})
        assert response.data == {"detail": gettext(detail), "code": code}
    assert response.status_code == status
