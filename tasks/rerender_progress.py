"""The re-render worker's progress line and its closing summary.

tqdm is not among the project's dependencies, and one line does: on a terminal it
is redrawn in place, elsewhere (a log) it is written at most every few seconds.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TextIO

from tasks.rerender_photo import Outcome

LOG_EVERY_SECONDS = 5.0


@dataclass
class Summary:
    done: int = 0
    failed: int = 0
    skipped: int = 0
    retried: int = 0  # errors whose tasks went back to the queue
    started: float = field(default_factory=time.monotonic)

    @property
    def finished(self) -> int:
        return self.done + self.failed + self.skipped

    def line(self) -> str:
        elapsed = time.monotonic() - self.started
        return (
            f"done {self.done}, failed {self.failed}, skipped {self.skipped}, "
            f"retried {self.retried}, elapsed {elapsed:.1f} s"
        )


class Progress:
    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.summary = Summary()
        self.total: int | None = None
        self._live = stream.isatty()
        self._shown_at = 0.0

    def expect(self, total: int | None) -> None:
        """Tasks waiting at the start, where the queue can tell (not on Pub/Sub)."""
        self.total = total

    def record(self, outcome: Outcome) -> None:
        if outcome is Outcome.RERENDERED:
            self.summary.done += 1
        elif outcome is Outcome.SKIPPED:
            self.summary.skipped += 1
        else:
            self.summary.failed += 1
        self._show()

    def record_retry(self) -> None:
        self.summary.retried += 1
        self._show()

    def finish(self) -> None:
        """Ends the line a terminal was shown, so the summary starts on its own."""
        if self._live and self._shown_at:
            self.stream.write("\n")
            self.stream.flush()

    def _show(self) -> None:
        now = time.monotonic()
        if not self._live and now - self._shown_at < LOG_EVERY_SECONDS:
            return
        self._shown_at = now
        s = self.summary
        of = f"/{self.total}" if self.total is not None else ""
        rate = s.finished / max(now - s.started, 1e-6)
        line = (
            f"re-rendering: {s.finished}{of} ({s.done} done, {s.skipped} skipped, "
            f"{s.failed} failed) {rate:.1f}/s"
        )
        self.stream.write(f"\r{line}" if self._live else f"{line}\n")
        self.stream.flush()
