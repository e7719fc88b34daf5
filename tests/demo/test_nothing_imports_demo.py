"""demo/ is the top floor for data too: only the tests and demo itself import it, so no code path of the
service can reach demo data or the published demo secrets."""

import pytest

from tests.test_layers import module_imports, service_modules

pytestmark = pytest.mark.django_db


def test_no_module_of_the_service_imports_demo():
    importers = {
        f"{module} imports {imported}"
        for app, module, path in service_modules()
        if app != "demo"
        for _line, imported in module_imports(module, path)
        if imported == "demo" or imported.startswith("demo.")
    }
    assert not importers, sorted(importers)
