"""Imports point down only: the house's floors, read from the code's own imports.

Each app stands on a floor and may import only from a lower floor (or from itself). Two apps on one
floor do not import each other, so no circle can form. The test reads every module of the service with
`ast` (imports inside functions count too: a lazy import is still a dependency) and fails on a new
upward or sideways import, naming the module, the line and the imported name. Migrations are left out:
they refer to other apps by the migration graph, and a data migration's import is history.
"""

import ast
from pathlib import Path

import pytest

# The suite's autouse fixtures set up both databases for every test.
pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent

# Bottom to top. An app not listed here is not ours (Django, DRF, the standard library...).
FLOORS: dict[str, int] = {
    "core": 1,  # dates, time limits, the error vocabulary, input bounds, documents, the detector
    "audit": 2,  # the access log: writer, chain, checkpoints, verification, prune
    "staff": 3,  # tenancy, networks, staff profiles, the actor of a request, permission checks
    "patrons": 4,  # patrons, notes, guardians, registers
    "bans": 5,  # the ban procedure and Swedish access prohibitions
    "sotu_silo": 5,  # identity codes and the billing clerk's work
    "accounts": 5,  # log-in, lockout, two-factor authentication, roles
    "dpo": 6,  # the data protection officer's work, through each app's privacy contract
    "koha": 6,  # the Koha connection: sync, identity codes out of Koha, the machine API for Koha's plugin
    "demo": 7,  # demo data and seed_demo
    "privacy_service": 8,  # settings, URLs, the project's middleware
}

# Imports that still run against the floors, each with the reason it is still here. The list only
# shrinks: a new upward import fails the test; a removed one must be struck from the list (the test
# fails on an entry that no longer matches, so the list cannot go stale).
KNOWN_UPWARD: dict[tuple[str, str], str] = {}


def service_modules():
    """(app, module, path) for every module of the service, migrations left out."""
    for app in FLOORS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            yield app, module.removesuffix(".__init__"), path


def _type_checking_blocks(tree: ast.Module) -> set[ast.AST]:
    """The nodes under `if TYPE_CHECKING:`: imported for type hints only, never at run time."""
    return {
        child
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
        for statement in node.body
        for child in ast.walk(statement)
    }


def module_imports(module: str, path: Path, *, type_hints: bool = True):
    """(line, imported module) for every import of a module: lazy ones inside functions too, relative ones
    resolved; without `type_hints`, those under `if TYPE_CHECKING:` are left out."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tree = ast.parse(path.read_text(), filename=str(path))
    skipped = set() if type_hints else _type_checking_blocks(tree)
    for node in ast.walk(tree):
        if node in skipped:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                if node.module:
                    yield node.lineno, ".".join([*base, node.module])
                else:
                    for alias in node.names:
                        yield node.lineno, ".".join([*base, alias.name])
            else:
                yield node.lineno, node.module


def upward_imports() -> dict[tuple[str, str], str]:
    """{(importing module, imported module): "file:line"} for every import that does not point down."""
    found = {}
    for app, module, path in service_modules():
        for line, imported in module_imports(module, path):
            target = imported.split(".")[0]
            if target == app or target not in FLOORS:
                continue
            if FLOORS[target] >= FLOORS[app]:
                found[(module, imported)] = f"{path.relative_to(ROOT)}:{line}"
    return found


def test_imports_point_down_only():
    new = {pair: where for pair, where in upward_imports().items() if pair not in KNOWN_UPWARD}
    assert not new, "imports that run up or sideways between floors:\n" + "\n".join(
        f"  {where}: {importing} imports {imported}" for (importing, imported), where in sorted(new.items())
    )


def test_the_known_exceptions_are_still_there():
    gone = set(KNOWN_UPWARD) - set(upward_imports())
    assert not gone, f"no longer imported, strike from KNOWN_UPWARD: {sorted(gone)}"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from patrons.models import Patron\n", ("patrons.models",)),
        ("def f():\n    import dpo.models\n", ("dpo.models",)),
        ("from . import models\n", ("audit.models",)),
        ("from ..models import AccessEvent\n", ("audit.models",)),
    ],
)
def test_the_reader_sees_every_kind_of_import(tmp_path, source, expected):
    """The reader must see lazy and relative imports, or an upward import could hide in one."""
    path = tmp_path / "module.py"
    path.write_text(source)
    module = "audit.sub.module" if source.startswith("from ..") else "audit.module"
    assert tuple(imported for _line, imported in module_imports(module, path)) == expected
