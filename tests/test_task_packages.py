"""The three packages of background work hold no import cycle, not even through
`if TYPE_CHECKING:` imports (which tests/test_import_contracts.py leaves out for
the GraphQL types' sake):

    tasks/       the handlers and jobs of the domain, and their wiring (runtime.py)
    cron/        the cron engine: cron.yaml, the schedule grammar, the scheduler
    taskqueue/   the queue: port, adapters, registry, contexts, routes, run log

What a handler is handed (`taskqueue/context.py`) names the `Enqueuer` port, not
the `Tasks` facade, whose registry of handlers is typed by that context. Which way
the three depend (tasks -> cron -> taskqueue) is import-linter's layers contract.
"""

from __future__ import annotations

import grimp
import pytest

PACKAGES = ("tasks", "cron", "taskqueue")


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*PACKAGES, exclude_type_checking_imports=False, cache_dir=None)


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_cycle_inside_a_package(graph: grimp.ImportGraph, package: str) -> None:
    assert graph.nominate_cycle_breakers(package) == set()
