"""The home feed: the viewer's own FeedItems, one ancestor query a page.

Fan-out on write puts a FeedItem for every new photo into each follower's entity
group (tasks/feed_tasks.py). Reading is then one query plus one batched get of
the photos, whose owners, counts and likes the page then fetches in one more.
Items whose photo is gone, or whose owner the viewer no longer follows, are
hidden at read time until the cleanup task removes them, so a page may hold
fewer edges than asked; the cursors stay right.
"""

from __future__ import annotations

from resolvers import comments, likes
from resolvers.context import RequestContext
from resolvers.pagination import Edge, Page, PageArgs, paginate
from store import counters, models, social_models
from store.keys import Key
from store.port import Entity, Query


def photo_extras(viewer_id: str, photo_keys: list[Key]) -> list[Key]:
    keys: list[Key] = []
    for photo in photo_keys:
        keys.append(models.user_key(social_models.owner_id_of(photo)))
        keys.append(social_models.like_key(viewer_id, photo))
        keys += counters.shard_keys(likes.like_counter(photo))
        keys += counters.shard_keys(comments.comment_counter(photo))
    return list(dict.fromkeys(keys))


def feed_query(viewer_id: str) -> Query:
    return Query(
        kind=social_models.FEED_ITEM, order_by="sort_key", ancestor=models.user_key(viewer_id)
    )


def _photo_key(item: Entity) -> Key:
    return social_models.parse_photo_ref(item.key.name)


async def home_feed(context: RequestContext, args: PageArgs) -> Page[models.Photo]:
    viewer = context.require_viewer()
    items = await paginate(
        context.store,
        context.cursors,
        feed_query(viewer.user_id),
        f"feed:{viewer.user_id}",
        args,
        _photo_key,
    )
    photo_keys = [edge.node for edge in items.edges]
    owners = {social_models.owner_id_of(key) for key in photo_keys} - {viewer.user_id}
    # Everything a feed page shows in one batched get: the photos, the follow
    # edges that may hide some, and what the Photo fields ask for next (owners,
    # counter shards, the viewer's likes). The results are primed into the
    # DataLoader, where those fields find them without another round trip.
    followees = sorted(owners)
    edge_keys = [social_models.following_key(viewer.user_id, owner) for owner in followees]
    found = await context.loaders.fetch_and_prime(
        [*photo_keys, *edge_keys, *photo_extras(viewer.user_id, photo_keys)]
    )
    photos = [found.get(key) for key in photo_keys]
    edges = [found.get(key) for key in edge_keys]
    followed = {owner for owner, edge in zip(followees, edges, strict=True) if edge}
    followed.add(viewer.user_id)
    kept = [
        Edge(models.photo_from_entity(photo), edge.cursor)
        for edge, photo in zip(items.edges, photos, strict=True)
        if photo is not None and social_models.owner_id_of(edge.node) in followed
    ]
    return Page(kept, items.has_next_page, items.has_previous_page)
