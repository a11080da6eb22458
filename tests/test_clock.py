"""The app's clock is the one every timestamp comes from: a fixed clock handed to
create_app is the time a comment is stamped with, and the time tokens are judged by."""

from __future__ import annotations

from datetime import UTC, datetime

from auth.dev_tokens import key_path_in, mint_dev_token
from resolvers.node_ids import to_global_id
from settings import Settings
from store.port import Store
from tests.utils.accounts import call
from tests.utils.builders import make_photos, make_user
from tests.utils.clients import app_client
from tests.utils.tokens import FakeClock

# Years from the wall clock, with milliseconds, so that nothing else could produce it.
FROZEN = datetime(2041, 3, 4, 5, 6, 7, 123000, tzinfo=UTC)
ADD_COMMENT = """mutation($i: AddCommentInput!) { addComment(input: $i) {
  comment { id } errors { code field } } }"""
VIEWER = "{ viewer { user { username } } }"
COMMENTS = """query($id: ID!) { node(id: $id) { ... on Photo {
  comments(first: 5) { edges { node { text createdAt } } } } } }"""


async def test_a_fixed_clock_stamps_what_a_mutation_writes(
    store: Store, settings: Settings
) -> None:
    alice = await make_user(store, "alice")
    [photo] = await make_photos(store, alice, 1)
    photo_id = to_global_id("Photo", photo.key)
    key, frozen = key_path_in(settings.var_dir), FakeClock(FROZEN)
    signed_in = {"Authorization": f"Bearer {mint_dev_token(key, alice.id, clock=frozen)}"}
    async with app_client(settings, store, clock=frozen) as http:
        body = await call(http, ADD_COMMENT, {"i": {"photoId": photo_id, "text": "hi"}}, signed_in)
        assert body["data"]["addComment"]["errors"] == [], body
        read = await call(http, COMMENTS, {"id": photo_id}, signed_in)
    [edge] = read["data"]["node"]["comments"]["edges"]
    assert edge["node"] == {"text": "hi", "createdAt": "2041-03-04T05:06:07.123Z"}


async def test_tokens_are_judged_by_the_apps_clock(settings: Settings) -> None:
    # Minted now, for 30 days: long expired by the app's clock in 2041.
    today = {"Authorization": f"Bearer {mint_dev_token(key_path_in(settings.var_dir), 'alice')}"}
    async with app_client(settings, clock=FakeClock(FROZEN)) as http:
        response = await http.post("/graphql", json={"query": VIEWER}, headers=today)
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["reason"] == "expired"
