"""audit/ is the ground floor above core/: it imports no app of the service, and core/ none at all.

Read from the source (every module, migrations included, imports inside functions too), so that a new
upward import fails here before it ties the access log to the apps that write it.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS_ABOVE_AUDIT = {"patrons", "sotu_silo", "dpo", "accounts", "staff", "bans", "demo", "privacy_service"}
FLOORS = {"core": APPS_ABOVE_AUDIT | {"audit"}, "audit": APPS_ABOVE_AUDIT}
# Building an Actor from a request moves to staff/ (branch `staff`); remove this entry when it has.
NOT_YET_MOVED = {"audit/actor.py": {"patrons", "privacy_service"}}


def imported_apps(path: Path) -> set[str]:
    """The top-level packages a module imports (relative imports stay in its own app)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("app", sorted(FLOORS))
def test_the_floor_imports_nothing_from_above(app):
    upward = {}
    for path in sorted((ROOT / app).rglob("*.py")):
        module = path.relative_to(ROOT).as_posix()
        found = imported_apps(path) & FLOORS[app]
        if found != NOT_YET_MOVED.get(module, set()):
            upward[module] = sorted(found)
    assert not upward, f"imports from a higher floor (or a stale NOT_YET_MOVED entry): {upward}"


def test_the_check_sees_an_upward_import(tmp_path):
    module = tmp_path / "module.py"
    module.write_text("import json\nfrom audit.models import Action\n\n\ndef f():\n    from patrons import models\n")
    assert imported_apps(module) & FLOORS["audit"] == {"patrons"}
