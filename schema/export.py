"""`make schema`: write the live schema to schema.graphql, refusing unlisted breaking changes.

    python -m schema.export

Dangerous changes (graphql-core's `find_dangerous_changes`: an enum value or an
optional argument added, which an app built earlier may not expect) are printed
and allowed. Breaking ones must first be listed in docs/SCHEMA_CHANGELOG.md
(schema/compatibility.py says how, and against which version).
"""

from __future__ import annotations

import sys
from pathlib import Path

from schema.compatibility import (
    CHANGELOG,
    ROOT,
    SCHEMA_FILE,
    HistoryUnavailable,
    changes_between,
    live_sdl,
    previous_committed_sdl,
    unlisted,
)


def export(root: Path = ROOT) -> int:
    """Writes root/schema.graphql; 1 (and nothing written) on an unlisted breaking change."""
    target = root / SCHEMA_FILE
    live = live_sdl()
    try:
        previous = previous_committed_sdl(live, root)
    except HistoryUnavailable as why:
        print(f"no git history ({why}); comparing with the file as it is", file=sys.stderr)
        previous = target.read_text() if target.exists() else None
    if previous is not None:
        changes = changes_between(previous, live)
        for change in changes.dangerous:
            print(f"dangerous: {change}", file=sys.stderr)
        changelog = root / CHANGELOG
        refused = unlisted(changes.breaking, changelog.read_text() if changelog.exists() else "")
        if refused:
            print(
                f"{SCHEMA_FILE} not written: breaking changes not listed as intended in "
                f"{CHANGELOG} (list each, in backticks, with a reason):",
                file=sys.stderr,
            )
            for change in refused:
                print(f"  `{change}`", file=sys.stderr)
            return 1
    if target.exists() and target.read_text() == live:
        print(f"{SCHEMA_FILE} is up to date")
        return 0
    target.write_text(live)
    print(f"wrote {SCHEMA_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(export())
