"""Mixed load on the real server: does it hold, or stall and slow down over time?

    python -m benchmarks.bench_load [--window-seconds 30] [--clients 20]

Starts the server as `make run` does (uvicorn on 127.0.0.1, embedded store, a
fresh var dir), makes one user per client, each with a registered push device, a
photo and a few follows. Then `clients` clients, each signed in as its own user,
send requests back to back for three consecutive windows: reads (home feed,
profile pages) and writes (like/unlike, comment, follow/unfollow, updateCaption,
createPhoto with a small image). Then the same clients do reads only, for one
window, for comparison. Per window: requests, errors, req/s, p50, p99 and the
longest pause with no reply completed; then the ratios the targets are set on.
Between the mixed and the read-only run, the queue is given up to two windows to
finish the follow-up work (fan-out, notifications, pushes); how long it took is
reported too. Loopback only; every request has a timeout, so a run is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import itertools
import json
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

from auth.dev_tokens import key_path_in, mint_dev_token
from benchmarks.load_server import LoadServer

REQUEST_TIMEOUT = 60.0
FIELDS = "id caption likeCount commentCount viewerHasLiked owner { username }"
HOME = f"query {{ viewer {{ feed(first: 20) {{ edges {{ node {{ {FIELDS} }} }} }} }} }}"
PROFILE = f"""query($id: ID!) {{ node(id: $id) {{ ... on User {{ username followerCount
  photos(first: 20) {{ edges {{ node {{ {FIELDS} }} }} }} }} }} }}"""
CREATE_PROFILE = """mutation($i: CreateProfileInput!) { createProfile(input: $i) {
  user { id } errors { code } } }"""
REGISTER = """mutation($i: RegisterDeviceInput!) { registerDevice(input: $i) {
  device { platform } errors { code } } }"""
CREATE_PHOTO = """mutation CreatePhoto($i: CreatePhotoInput!) { createPhoto(input: $i) {
  photo { id } errors { code } } }"""
MUTATIONS = {
    "like": "likePhoto(input: $i) { photo { id likeCount } errors { code } }",
    "unlike": "unlikePhoto(input: $i) { photo { id likeCount } errors { code } }",
    "comment": "addComment(input: $i) { comment { id } errors { code } }",
    "follow": "follow(input: $i) { user { id } errors { code } }",
    "unfollow": "unfollow(input: $i) { user { id } errors { code } }",
    "caption": "updateCaption(input: $i) { photo { id } errors { code } }",
}
INPUTS = {
    "like": "LikeInput",
    "unlike": "LikeInput",
    "comment": "AddCommentInput",
    "follow": "FollowInput",
    "unfollow": "FollowInput",
    "caption": "UpdateCaptionInput",
}
# Reads are most of a feed app's traffic; every kind of write still comes often.
MIX = {"home": 30, "profile": 25, "like": 14, "comment": 8, "follow": 8, "caption": 10, "photo": 5}


@dataclass
class Reply:
    kind: str
    finished: float
    seconds: float
    ok: bool


@dataclass
class User:
    user_id: str
    headers: dict[str, str]
    node_id: str = ""
    photos: list[str] = field(default_factory=list)
    liked: set[str] = field(default_factory=set)
    following: set[str] = field(default_factory=set)


def small_jpeg(seed: int) -> bytes:
    image = Image.new("RGB", (160, 120), ((seed * 53) % 256, (seed * 97) % 256, 128))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


class Client:
    """One signed-in user sending requests back to back."""

    def __init__(self, http: httpx.AsyncClient, me: User, everyone: list[User], seed: int) -> None:
        self.http = http
        self.me = me
        self.everyone = everyone
        self.random = random.Random(seed)
        self.replies: list[Reply] = []

    async def graphql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables}, headers=self.me.headers
        )
        return _body(response)

    async def create_photo(self, caption: str) -> dict[str, Any]:
        operations = {
            "query": CREATE_PHOTO,
            "variables": {"i": {"image": None, "caption": caption}},
        }
        response = await self.http.post(
            "/graphql",
            headers={**self.me.headers, "X-Apollo-Operation-Name": "CreatePhoto"},
            data={
                "operations": json.dumps(operations),
                "map": json.dumps({"0": ["variables.i.image"]}),
            },
            files={"0": ("p.jpg", small_jpeg(self.random.randrange(1000)), "image/jpeg")},
        )
        body = _body(response)
        photo = (body.get("data") or {}).get("createPhoto", {}).get("photo")
        if photo:
            self.me.photos.append(photo["id"])
        return body

    async def run(self, until: float, *, reads_only: bool) -> None:
        kinds = ["home", "profile"] if reads_only else list(MIX)
        weights = [MIX[kind] for kind in kinds]
        while time.perf_counter() < until:
            kind = self.random.choices(kinds, weights)[0]
            started = time.perf_counter()
            try:
                async with asyncio.timeout(REQUEST_TIMEOUT):
                    ok = await self.one(kind)
            except (httpx.HTTPError, TimeoutError, ValueError):
                ok = False
            finished = time.perf_counter()
            self.replies.append(Reply(kind, finished, finished - started, ok))

    async def one(self, kind: str) -> bool:
        other = self.random.choice([u for u in self.everyone if u is not self.me])
        if kind == "home":
            body = await self.graphql(HOME, {})
        elif kind == "profile":
            body = await self.graphql(PROFILE, {"id": other.node_id})
        elif kind == "photo":
            body = await self.create_photo(f"photo {self.random.randrange(10**6)}")
        else:
            body = await self.write(kind, other)
        return "errors" not in body and body.get("data") is not None

    async def write(self, kind: str, other: User) -> dict[str, Any]:
        if kind == "like" and other.photos:
            photo = self.random.choice(other.photos)
            kind = "unlike" if photo in self.me.liked else "like"
            self.me.liked.symmetric_difference_update({photo})
            return await self.mutate(kind, {"photoId": photo})
        if kind == "comment" and other.photos:
            text = f"nice {self.random.randrange(1000)}"
            return await self.mutate(
                kind, {"photoId": self.random.choice(other.photos), "text": text}
            )
        if kind == "follow":
            kind = "unfollow" if other.node_id in self.me.following else "follow"
            self.me.following.symmetric_difference_update({other.node_id})
            return await self.mutate(kind, {"userId": other.node_id})
        photo = self.random.choice(self.me.photos)
        return await self.mutate("caption", {"photoId": photo, "caption": f"v{time.time():.3f}"})

    async def mutate(self, kind: str, arguments: dict[str, Any]) -> dict[str, Any]:
        query = f"mutation($i: {INPUTS[kind]}!) {{ {MUTATIONS[kind]} }}"
        return await self.graphql(query, {"i": arguments})


def _body(response: httpx.Response) -> dict[str, Any]:
    if response.status_code != 200:
        return {"errors": [{"message": f"HTTP {response.status_code}"}]}
    body: dict[str, Any] = response.json()
    return body


async def set_up(http: httpx.AsyncClient, var: Path, count: int) -> list[Client]:
    users = [
        User(
            f"load-{n:02d}",
            {"Authorization": f"Bearer {mint_dev_token(key_path_in(var), f'load-{n:02d}')}"},
        )
        for n in range(count)
    ]
    clients = [Client(http, user, users, seed) for seed, user in enumerate(users)]

    async def prepare(client: Client) -> None:
        me = client.me
        body = await client.graphql(
            CREATE_PROFILE,
            {"i": {"username": me.user_id.replace("-", "_"), "displayName": me.user_id}},
        )
        me.node_id = _required(body, "createProfile", "user")["id"]
        device = {"token": f"{me.user_id}:APA91b" + "Qx7-_" * 28, "platform": "IOS"}
        _required(await client.graphql(REGISTER, {"i": device}), "registerDevice", "device")
        _required(await client.create_photo("first"), "createPhoto", "photo")

    await _gather(prepare(client) for client in clients)

    async def follow_some(client: Client) -> None:
        for other in client.random.sample(
            [u for u in users if u is not client.me], min(5, count - 1)
        ):
            _required(await client.mutate("follow", {"userId": other.node_id}), "follow", "user")
            client.me.following.add(other.node_id)

    await _gather(follow_some(client) for client in clients)
    return clients


def _required(body: dict[str, Any], mutation: str, field_name: str) -> dict[str, Any]:
    payload = (body.get("data") or {}).get(mutation) or {}
    if "errors" in body or not payload.get(field_name):
        raise RuntimeError(f"setting up the load failed at {mutation}: {body}")
    result: dict[str, Any] = payload[field_name]
    return result


async def _gather(work: Any) -> None:
    await asyncio.gather(*work)


def window_figures(replies: list[Reply], start: float, end: float) -> dict[str, float]:
    inside = sorted((r for r in replies if start <= r.finished < end), key=lambda r: r.finished)
    latencies = sorted(r.seconds for r in inside)
    moments = [start, *(r.finished for r in inside), end]
    return {
        "requests": len(inside),
        "errors": sum(not r.ok for r in inside),
        "rps": len(inside) / (end - start),
        "p50": _quantile(latencies, 0.50),
        "p99": _quantile(latencies, 0.99),
        "longest_pause": max(b - a for a, b in itertools.pairwise(moments)),
    }


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(q * len(values)))]


async def _load(clients: list[Client], seconds: float, *, reads_only: bool) -> tuple[float, float]:
    start = time.perf_counter()
    await _gather(client.run(start + seconds, reads_only=reads_only) for client in clients)
    return start, start + seconds


async def run(
    *, window_seconds: float = 30.0, clients: int = 20, windows: int = 3
) -> dict[str, Any]:
    with LoadServer() as server:
        limits = httpx.Limits(max_connections=clients + 4)
        async with httpx.AsyncClient(
            base_url=server.url, timeout=REQUEST_TIMEOUT, limits=limits
        ) as http:
            loaders = await set_up(http, server.var, clients)
            start, _ = await _load(loaders, window_seconds * windows, reads_only=False)
            mixed = [reply for client in loaders for reply in client.replies]
            for client in loaders:
                client.replies = []
            # The reads compare against a server whose follow-up work is done.
            drained_after = await server.wait_for_idle_queue(within=window_seconds * 2)
            read_start, read_end = await _load(loaders, window_seconds, reads_only=True)
            reads = [reply for client in loaders for reply in client.replies]
        server_errors = server.error_lines()
    bounds = [
        (start + n * window_seconds, start + (n + 1) * window_seconds) for n in range(windows)
    ]
    results: dict[str, Any] = {
        "windows": [window_figures(mixed, a, b) for a, b in bounds],
        "read_only": window_figures(reads, read_start, read_end),
        "mixed": window_figures(mixed, bounds[0][0], bounds[-1][1]),
        "ok_by_kind": Counter(r.kind for r in mixed if r.ok),
        "errors_by_kind": Counter(r.kind for r in mixed if not r.ok),
        "server_error_lines": server_errors,
        "queue_drained_after_seconds": drained_after,
    }
    first, last = results["windows"][0], results["windows"][-1]
    results["last_over_first_rps"] = last["rps"] / first["rps"] if first["rps"] else float("nan")
    mixed_all = results["mixed"]
    results["p99_over_p50"] = (
        mixed_all["p99"] / mixed_all["p50"] if mixed_all["p50"] else float("nan")
    )
    read_rps = results["read_only"]["rps"]
    results["mixed_over_read_only_rps"] = mixed_all["rps"] / read_rps if read_rps else float("nan")
    return results


def report(results: dict[str, Any]) -> None:
    header = ("requests", 9), ("errors", 8), ("req/s", 9), ("p50 ms", 9), ("p99 ms", 10)
    print(f"{'window':<11}" + "".join(f"{name:>{width}}" for name, width in header) + "  pause s")
    rows = [(f"mixed {n + 1}", w) for n, w in enumerate(results["windows"])]
    rows += [("mixed all", results["mixed"]), ("read-only", results["read_only"])]
    for name, w in rows:
        print(
            f"{name:<11}{w['requests']:>9}{w['errors']:>8}{w['rps']:>9.1f}"
            f"{w['p50'] * 1000:>9.0f}{w['p99'] * 1000:>10.0f}{w['longest_pause']:>9.2f}"
        )
    print(f"window 3 / window 1 req/s: {results['last_over_first_rps']:.2f}   (target >= 0.9)")
    print(f"p99 / p50 (mixed):         {results['p99_over_p50']:.1f}   (target <= 5)")
    print(f"mixed / read-only req/s:   {results['mixed_over_read_only_rps']:.2f}   (target >= 0.5)")
    drained = results["queue_drained_after_seconds"]
    print(
        f"background tasks drained {drained:.1f} s after the mixed load"
        if drained is not None
        else "background tasks still due when the read-only run began"
    )
    print(f"errors by kind: {dict(results['errors_by_kind'])}")
    print(f"server error lines logged: {len(results['server_error_lines'])}")
    for line in results["server_error_lines"][:5]:
        print(f"  {line[:200]}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="mixed load on the real server")
    parser.add_argument("--window-seconds", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=20)
    args = parser.parse_args(argv)
    report(asyncio.run(run(window_seconds=args.window_seconds, clients=args.clients)))


if __name__ == "__main__":
    main(sys.argv[1:])
