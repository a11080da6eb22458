"""Several server processes on one embedded file (store/sqlite_lock.py): writes from
both stay exact, their follow-up work runs once, in the process that leads, and
when the leader is killed the other one takes its background work over.

Two `python -m serve` processes on one var dir with the in-process cache off, which
is what `serve --workers 2` runs (each client here alternates between them, so
that both really write into the same entity groups), and `serve --workers 2` itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from auth.dev_tokens import key_path_in, mint_dev_token
from tests.utils.accounts import call
from tests.utils.app_server import AppServer
from tests.utils.images import encode, marked_photo
from tests.utils.tasks_app import eventually
from tests.utils.uploads import create_photo

# Starts servers in subprocesses: left out of `make test-fast`.
pytestmark = pytest.mark.slow

# How long a wait may take before the test fails: a guard for a stuck run, not a
# bound on how fast a takeover is (a loaded machine decides that).
GUARD = 60.0

USERS = 8
FOLLOWS = 3  # each user follows the next three, and likes their photos
SHARED = {"TIMELINE_CACHE": "off"}
FOLLOW = """mutation($i: FollowInput!) { follow(input: $i) { errors { code } } }"""
LIKE = """mutation($i: LikeInput!) { likePhoto(input: $i) { errors { code } } }"""
CREATE_PROFILE = """mutation($i: CreateProfileInput!) { createProfile(input: $i) {
  user { id } errors { code } } }"""
COUNTS = """query($id: ID!) { node(id: $id) {
  ... on User { followerCount followingCount } ... on Photo { likeCount } } }"""
FEED = "{ viewer { feed(first: 20) { edges { node { caption } } } } }"
NOTIFICATIONS = """{ viewer { notifications(first: 20) { edges { node { kind actorCount } } } } }"""


class Users:
    """USERS people, each client alternating between the servers' URLs."""

    def __init__(self, var: Path, urls: list[str]) -> None:
        self.urls = urls
        key = key_path_in(var)
        self.headers = [
            {"Authorization": f"Bearer {mint_dev_token(key, f'user{n}')}"} for n in range(USERS)
        ]
        self.ids: list[str] = [""] * USERS
        self.photos: list[str] = [""] * USERS
        self._turns = Counter[int]()

    def url(self, n: int) -> str:
        self._turns[n] += 1
        return self.urls[(n + self._turns[n]) % len(self.urls)]

    async def mutate(self, http: httpx.AsyncClient, n: int, query: str, **i: Any) -> Any:
        body = await call(http, query, {"i": i}, self.headers[n], path=self.url(n) + "/graphql")
        assert "errors" not in body, body
        [payload] = body["data"].values()
        assert payload["errors"] == [], payload
        return payload

    async def read(self, http: httpx.AsyncClient, n: int, query: str, **v: Any) -> Any:
        body = await call(http, query, v, self.headers[n], path=self.url(n) + "/graphql")
        assert "errors" not in body, body
        return body["data"]


def followed(n: int) -> list[int]:
    return [(n + step) % USERS for step in range(1, FOLLOWS + 1)]


async def everyone(action: Callable[[int], Awaitable[None]]) -> None:
    await asyncio.gather(*(action(n) for n in range(USERS)))


async def social_round(http: httpx.AsyncClient, users: Users) -> None:
    """Every user signs up, follows, posts and likes, all at once, through both servers."""
    image = encode(marked_photo(64, 48), "JPEG")

    async def sign_up(n: int) -> None:
        payload = await users.mutate(http, n, CREATE_PROFILE, username=f"user{n}", displayName="U")
        users.ids[n] = payload["user"]["id"]

    async def follow(n: int) -> None:
        for other in followed(n):
            await users.mutate(http, n, FOLLOW, userId=users.ids[other])

    async def post(n: int) -> None:
        async with httpx.AsyncClient(base_url=users.url(n), timeout=60) as client:
            payload = await create_photo(client, users.headers[n], image, caption=f"by user{n}")
        users.photos[n] = payload["photo"]["id"]

    async def like(n: int) -> None:
        for other in followed(n):
            await users.mutate(http, n, LIKE, photoId=users.photos[other])

    async def look(n: int) -> None:
        """Reads through every server before the likes, as clients do: a process that
        kept what it read would go on serving it after another one's write."""
        for _ in users.urls:
            await users.read(http, n, COUNTS, id=users.photos[n])
            await users.read(http, n, COUNTS, id=users.ids[n])

    for step in (sign_up, follow, post, look, like):
        await everyone(step)


def queue_rows(var: Path) -> list[tuple[str, str]]:
    with contextlib.closing(sqlite3.connect(f"file:{var / 'timeline.db'}?mode=ro", uri=True)) as db:
        return list(db.execute("SELECT handler, state FROM task_queue"))


def successful_runs(var: Path) -> Counter[str]:
    with contextlib.closing(sqlite3.connect(f"file:{var / 'timeline.db'}?mode=ro", uri=True)) as db:
        rows = db.execute("SELECT task_name FROM task_runs WHERE kind = 'task' AND status = 'done'")
        return Counter(name for (name,) in rows)


def leader_pid(var: Path) -> int:
    return int((var / "timeline.db.lock").read_text().strip())


async def drained(var: Path) -> bool:
    rows = await asyncio.to_thread(queue_rows, var)
    assert not [row for row in rows if row[1] == "failed"], rows
    return bool(rows) and all(state == "done" for _, state in rows)


async def exact(http: httpx.AsyncClient, users: Users, likes: int) -> bool:
    """Counts, feeds and notifications as the writes make them, read through either server."""
    for n in range(USERS):
        user = (await users.read(http, n, COUNTS, id=users.ids[n]))["node"]
        photo = (await users.read(http, n, COUNTS, id=users.photos[n]))["node"]
        if user != {"followerCount": FOLLOWS, "followingCount": FOLLOWS}:
            return False
        if photo != {"likeCount": likes}:
            return False
        feed = (await users.read(http, n, FEED))["viewer"]["feed"]["edges"]
        expected = {f"by user{m}" for m in [n, *followed(n)]}
        captions = [edge["node"]["caption"] for edge in feed]
        assert len(captions) == len(set(captions)), captions
        if set(captions) != expected:
            return False
        notes = (await users.read(http, n, NOTIFICATIONS))["viewer"]["notifications"]["edges"]
        actors = Counter[str]()
        for edge in notes:
            actors[edge["node"]["kind"]] += edge["node"]["actorCount"]
        if actors["FOLLOW"] != FOLLOWS or actors["LIKE"] != likes:
            return False
    return True


@contextlib.contextmanager
def servers(var: Path, count: int, **options: Any) -> Iterator[list[AppServer]]:
    started = [AppServer(var, f"server{n}", env=SHARED, **options) for n in range(count)]
    try:
        for server in started:  # one after the other: the first one leads
            server.start()
        yield started
    finally:
        for server in started:
            server.stop()


async def test_two_processes_write_exactly_and_the_survivor_takes_over_background_work(
    tmp_path: Path,
) -> None:
    with servers(tmp_path, 2) as (first, second):
        assert first.process is not None
        assert second.process is not None
        assert leader_pid(tmp_path) == first.process.pid
        users = Users(tmp_path, [first.url, second.url])
        async with httpx.AsyncClient(timeout=60) as http:
            await social_round(http, users)
            await eventually(lambda: drained(tmp_path), GUARD, "the queue")
            await eventually(
                lambda: exact(http, users, likes=FOLLOWS),
                within=GUARD,
                what="counts, feeds, notifications",
            )
            runs = successful_runs(tmp_path)
            assert runs
            assert max(runs.values()) == 1, f"tasks done twice: {runs.most_common(3)}"
            assert "fanout_photo" in {handler for handler, _ in queue_rows(tmp_path)}

            os.kill(first.process.pid, signal.SIGKILL)  # the leader, mid-flight or not
            first.process.wait(timeout=10)
            users.urls = [second.url]
            await eventually(
                lambda: _leads(tmp_path, second), within=GUARD, what="the survivor to lead"
            )

            async def like_one_more(n: int) -> None:
                await users.mutate(http, n, LIKE, photoId=users.photos[(n + FOLLOWS + 1) % USERS])

            await everyone(like_one_more)
            await eventually(
                lambda: exact(http, users, likes=FOLLOWS + 1),
                within=GUARD,
                what="the survivor's work",
            )
    assert f"process {second.process.pid} runs background work" in second.log()


async def _leads(var: Path, server: AppServer) -> bool:
    assert server.process is not None
    return leader_pid(var) == server.process.pid


def children(pid: int) -> set[int]:
    return {int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}


async def test_serve_with_two_workers_seeds_once_leads_once_and_survives_its_leader(
    tmp_path: Path,
) -> None:
    demo = {"WEB_CONCURRENCY": "2", "TIMELINE_DEMO_DATA": "1"}
    server = AppServer(tmp_path, "workers", env=demo)  # serve.py, as `make run` starts it
    try:
        server.start()
        assert server.process is not None
        leader = leader_pid(tmp_path)
        assert leader in children(server.process.pid)
        assert "the in-process cache is off" in server.log()
        users = Users(tmp_path, [server.url])
        async with httpx.AsyncClient(timeout=60) as http:
            # Seeded by serve.py before the workers start (the file was new).
            data = await users.read(http, 0, '{ user(username: "alice") { id } }')
            alice = data["user"]["id"]

            async def followers() -> int:
                count: int = (await users.read(http, 0, COUNTS, id=alice))["node"]["followerCount"]
                return count

            before = await followers()
            os.kill(leader, signal.SIGKILL)
            await eventually(
                lambda: _led_by_another(tmp_path, leader, server), within=GUARD, what="a new leader"
            )
            await users.mutate(http, 0, CREATE_PROFILE, username="user0", displayName="U")
            await users.mutate(http, 0, FOLLOW, userId=alice)

            async def alice_counted() -> bool:
                return await followers() == before + 1

            await eventually(alice_counted, GUARD, "the new leader's fold of the follow")
    finally:
        server.stop()


def _running(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


async def _led_by_another(var: Path, old: int, server: AppServer) -> bool:
    assert server.process is not None
    pid = leader_pid(var)
    return pid != old and pid in children(server.process.pid)


async def test_plain_uvicorn_workers_without_the_in_process_cache_share_the_file(
    tmp_path: Path,
) -> None:
    """`uvicorn --workers 2 app:app` outside serve.py, on a fresh var dir: refused with
    the in-process cache (tests/test_embedded_processes.py), served with it off."""
    server = AppServer(tmp_path, "uvicorn", uvicorn=("--workers", "2"), env=SHARED)
    try:
        server.start()
        assert server.process is not None
        process = server.process

        async def both_started() -> bool:  # each at its pace
            assert process.poll() is None, server.log()  # refused: the server stops
            return server.log().count("Application startup complete") >= 2

        try:
            await eventually(both_started, GUARD, "both workers' start-up")
        except AssertionError as timed_out:
            raise AssertionError(server.log()) from timed_out
        workers = children(server.process.pid)
        assert leader_pid(tmp_path) in workers
        assert "refusing" not in server.log()
        for _ in range(4):  # fresh connections land on either process
            async with httpx.AsyncClient() as http:
                assert (await http.get(f"{server.url}/healthz")).status_code == 200
        assert all(_running(pid) for pid in workers), "neither exited"
    finally:
        server.stop()
