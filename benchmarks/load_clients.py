"""The clients of the load benchmark: one signed-in user each, sending reads and
writes back to back, and the set-up that gives every user a profile, a registered
push device, a photo and a few follows (all through the GraphQL API)."""

from __future__ import annotations

import asyncio
import io
import json
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

from auth.dev_tokens import key_path_in, mint_dev_token

REQUEST_TIMEOUT = 60.0
PAGE = 20  # photos a feed or profile page asks for
FIELDS = "id caption likeCount commentCount viewerHasLiked owner { username }"
HOME = f"query {{ viewer {{ feed(first: {PAGE}) {{ edges {{ node {{ {FIELDS} }} }} }} }} }}"
PROFILE = f"""query($id: ID!) {{ node(id: $id) {{ ... on User {{ username followerCount
  photos(first: {PAGE}) {{ edges {{ node {{ {FIELDS} }} }} }} }} }} }}"""
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
    error: str | None  # None, or the error's code (or the exception's name)

    @property
    def ok(self) -> bool:
        return self.error is None


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
        request = self.http.build_request(
            "POST",
            "/graphql",
            headers={**self.me.headers, "X-Apollo-Operation-Name": "CreatePhoto"},
            data={
                "operations": json.dumps(operations),
                "map": json.dumps({"0": ["variables.i.image"]}),
            },
            files={"0": ("p.jpg", small_jpeg(self.random.randrange(1000)), "image/jpeg")},
        )
        # The body in one write, as a phone's HTTP stack sends a small upload:
        # httpx streams a multipart body a part at a time (13 writes here), and
        # each write waits for a turn of this process's event loop, which the
        # other clients keep busy: the upload's time was mostly the client's.
        request.read()
        response = await self.http.send(request)
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
                    error = await self.one(kind)
            except (httpx.HTTPError, TimeoutError, ValueError) as failure:
                error = type(failure).__name__
            finished = time.perf_counter()
            self.replies.append(Reply(kind, finished, finished - started, error))

    async def one(self, kind: str) -> str | None:
        other = self.random.choice([u for u in self.everyone if u is not self.me])
        if kind == "home":
            body = await self.graphql(HOME, {})
        elif kind == "profile":
            body = await self.graphql(PROFILE, {"id": other.node_id})
        elif kind == "photo":
            body = await self.create_photo(f"photo {self.random.randrange(10**6)}")
        else:
            body = await self.write(kind, other)
        if "errors" in body:
            return str((body["errors"][0].get("extensions") or {}).get("code", "NO_CODE"))
        return None if body.get("data") is not None else "NO_DATA"

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
    try:
        body: dict[str, Any] = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200 and "errors" not in body:
        return {"errors": [{"extensions": {"code": f"HTTP_{response.status_code}"}}]}
    return body


async def set_up(
    http: httpx.AsyncClient, var: Path, count: int, *, photos_each: int = PAGE
) -> list[Client]:
    """`count` users, each with a profile, a push device, `photos_each` photos (a
    full profile page, so that the pages read in the first window are as long as
    in the last) and follows of half the others: the load's follow requests toggle
    a random other user, so each pair ends up followed half the time, and a graph
    set up smaller would grow through the windows (5 follows became 10 by the
    third), and window 3 would measure twice the fan-out of window 1."""
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
        for n in range(photos_each):
            _required(await client.create_photo(f"photo {n}"), "createPhoto", "photo")

    await gather(prepare(client) for client in clients)

    async def follow_some(client: Client) -> None:
        for other in client.random.sample(
            [u for u in users if u is not client.me], (count - 1) // 2
        ):
            _required(await client.mutate("follow", {"userId": other.node_id}), "follow", "user")
            client.me.following.add(other.node_id)

    await gather(follow_some(client) for client in clients)
    return clients


def _required(body: dict[str, Any], mutation: str, field_name: str) -> dict[str, Any]:
    payload = (body.get("data") or {}).get(mutation) or {}
    if "errors" in body or not payload.get(field_name):
        raise RuntimeError(f"setting up the load failed at {mutation}: {body}")
    result: dict[str, Any] = payload[field_name]
    return result


async def gather(work: Any) -> None:
    await asyncio.gather(*work)
