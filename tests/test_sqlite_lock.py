"""Who may run on the embedded file (store/sqlite_lock.py): a process with the
in-process cache alone, others together, exactly one of them leading, and a
follower taking over once the leader is gone.

flock locks belong to open file descriptions, so two claims in one process
contend exactly as two processes do; the kernel's release on SIGKILL is what
tests/test_embedded_processes.py shows with real processes."""

from __future__ import annotations

from pathlib import Path

import pytest

from store.errors import StoreInUse
from store.sqlite_lock import FileClaim, claim_file


def test_shared_processes_run_together_and_exactly_one_leads(tmp_path: Path) -> None:
    path = tmp_path / "timeline.db"
    with (
        claim_file(path, shared=True) as first,
        claim_file(path, shared=True) as second,
        claim_file(path, shared=True) as third,
    ):
        assert [first.leads, second.leads, third.leads] == [True, False, False]
        assert not second.try_lead()
        assert not third.try_lead()


def test_a_follower_leads_once_the_leader_is_gone(tmp_path: Path) -> None:
    path = tmp_path / "timeline.db"
    leader = FileClaim(path, shared=True)
    with claim_file(path, shared=True) as follower, claim_file(path, shared=True) as other:
        assert not follower.try_lead()
        leader.close()  # what the kernel does when its process dies
        assert follower.try_lead()
        assert follower.leads
        assert not other.try_lead(), "one leader at a time"
        assert (tmp_path / "timeline.db.lock").read_text().strip().isdigit()


def test_a_process_with_its_own_cache_is_alone_on_the_file(tmp_path: Path) -> None:
    path = tmp_path / "timeline.db"
    with claim_file(path, shared=False):
        with pytest.raises(StoreInUse, match="runs alone on it") as refusal:
            FileClaim(path, shared=True)
        with pytest.raises(StoreInUse, match="TIMELINE_CACHE=memory"):
            FileClaim(path, shared=False)
    assert "--workers N" in str(refusal.value)
    with claim_file(path, shared=True), pytest.raises(StoreInUse, match="TIMELINE_CACHE=off"):
        FileClaim(path, shared=False)
    with claim_file(path, shared=False) as alone:  # everyone gone: free again
        assert alone.leads
