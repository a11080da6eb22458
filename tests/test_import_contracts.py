"""The layers of docs/ARCHITECTURE.md, enforced: import-linter's contracts in
pyproject.toml ([tool.importlinter]), and no import cycle inside a package.

import-linter checks that dependencies point down (schema -> resolvers -> the
ports) and that schema reaches the ports only through resolvers. Cycles it does
not check in general, so the cycle test asks grimp (import-linter's own graph)
for the imports that would have to go to make each package's modules acyclic.
Imports under `if TYPE_CHECKING:` do not count there: they run only in mypy,
which is how the GraphQL types, which refer to each other, name each other.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from grimp import build_graph
from importlinter import api  # noqa: F401  (configures import-linter, as its CLI does)
from importlinter.application.use_cases import lint_imports

ROOT = Path(__file__).resolve().parent.parent
LAYERED: list[str] = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"][
    "root_packages"
]
# Packages outside the layers, and why.
OUTSIDE = {
    "tests": "the tests",
    "benchmarks": "benchmarks, beside the tests",
    "deploy": "offline tooling: Cloud Scheduler jobs and queues from cron.yaml and queue.yaml",
    "graphiql": "the GraphiQL page's files, served by the transport",
}


def test_the_import_contracts_hold(capsys: pytest.CaptureFixture[str]) -> None:
    # Not importlinter.cli.lint_imports: that one reconfigures logging for the whole
    # process (disabling the app's loggers for every later test).
    kept = lint_imports(str(ROOT / "pyproject.toml"), cache_dir=None, no_logo=True)
    report = capsys.readouterr().out
    assert kept, report


def test_every_package_has_its_place_in_the_layers() -> None:
    """A new package joins the contracts (or OUTSIDE) on purpose: one they do not
    name is an external module to import-linter, which no contract would check."""
    packages = {init.parent.name for init in ROOT.glob("*/__init__.py")}
    assert packages == set(LAYERED) | set(OUTSIDE)


@pytest.mark.parametrize("package", LAYERED)
def test_a_package_has_no_import_cycle(package: str) -> None:
    graph = build_graph(package, exclude_type_checking_imports=True, cache_dir=None)
    assert graph.nominate_cycle_breakers(package) == set()
