"""The layers of docs/ARCHITECTURE.md, enforced: import-linter's contracts in
pyproject.toml ([tool.importlinter]), and no import cycle inside a package.

import-linter checks that dependencies point down (schema -> resolvers -> the
ports) and that schema reaches the ports only through resolvers. Cycles it does
not check in general, so the second test asks grimp (import-linter's own graph)
for the imports that would have to go to make each package's modules acyclic.
Imports under `if TYPE_CHECKING:` do not count there: they run only in mypy,
which is how the GraphQL types, which refer to each other, name each other.
"""

from __future__ import annotations

import pytest
from grimp import build_graph
from importlinter.cli import EXIT_STATUS_SUCCESS, lint_imports

# The packages of the app's own code; a package missing here is not checked for cycles.
PACKAGES = (
    "schema",
    "resolvers",
    "tasks",
    "store",
    "auth",
    "media",
    "push",
    "mail",
    "cache",
    "observability",
)


def test_the_import_contracts_hold(capsys: pytest.CaptureFixture[str]) -> None:
    status = lint_imports(no_cache=True)
    report = capsys.readouterr().out
    assert status == EXIT_STATUS_SUCCESS, report


def cycle_breakers(package: str) -> set[tuple[str, str]]:
    graph = build_graph(package, exclude_type_checking_imports=True, cache_dir=None)
    return graph.nominate_cycle_breakers(package)


@pytest.mark.parametrize("package", PACKAGES)
def test_a_package_has_no_import_cycle(package: str) -> None:
    assert cycle_breakers(package) == set()
