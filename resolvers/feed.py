"""The home feed: the viewer's own FeedItems, one ancestor query a page.

Fan-out on write puts a FeedItem for every new photo into each follower's entity
group (tasks/feed.py). Reading is then one query plus one batched get of
the photos, whose owners, counts and likes the page then fetches in one more.
Items whose photo is gone, or whose owner the viewer no longer follows, are
hidden at read time until the cleanup task removes them. A page short of
visible items reads on, up to MAX_EXTRA_READS more times; a page that still
shows fewer than asked (even none) ends at the last position read, so its
endCursor always leads on (resolvers/pagination.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from resolvers import comments, likes
from resolvers.context import RequestContext
from resolvers.pagination import Edge, Page, PageArgs, page_size, paginate
from store import counters, models, social_models
from store.keys import Key
from store.port import Entity, Query


@dataclass(frozen=True, slots=True)
class FeedRef:
    """What a FeedItem names: the photo, its owner, and the keys its counts and
    `viewerHasLiked` read (the viewer's like, one key a count; `_visible` reads
    them back by position)."""

    photo: Key
    owner_id: str
    extras: tuple[Key, Key, Key]


def feed_ref(item: Entity) -> FeedRef:
    # Kept with a cached FeedItem (store/models.py `derived`): a warm page reads
    # each item's ref, not its name parsed and its keys looked up again. Read
    # here first, without derived's call and cast, 20 a page.
    kept = item.derived.get(FeedRef) if item.derived is not None else None
    if type(kept) is FeedRef:
        return kept
    return models.derived(item, FeedRef, _new_ref)


def _new_ref(item: Entity) -> FeedRef:
    photo = social_models.parse_photo_ref(item.key.name)
    owner_id = social_models.owner_id_of(photo)
    viewer_id = item.key.path[0][1]  # a FeedItem is in its viewer's entity group
    return FeedRef(photo, owner_id, _extras_of(viewer_id, owner_id, photo.name))


# Made once for each viewer and photo, not each page: a new like key costs its
# validation, its first hash and its encoding, and these cache entries are found by
# names (a hash of str is a C call, and kept; a Key's is a Python call).
@lru_cache(maxsize=16384)
def _extras_of(viewer_id: str, owner_id: str, photo_id: str) -> tuple[Key, Key, Key]:
    photo = models.photo_key(owner_id, photo_id)
    return (
        social_models.like_key(viewer_id, photo),
        counters.key_of(likes.LIKES, photo),
        counters.key_of(comments.COMMENTS, photo),
    )


@dataclass(slots=True)
class FeedPhoto:
    """A photo of the feed, with what its counts and `viewerHasLiked` show: read
    with the page, so its fields need not look their keys up again. Never changed
    once made, yet not frozen: a frozen dataclass's __init__ sets each field
    through object.__setattr__, three times the cost, for each photo a page."""

    photo: models.Photo
    like_count: int
    comment_count: int
    viewer_has_liked: bool


def feed_query(viewer_id: str) -> Query:
    return Query(
        kind=social_models.FEED_ITEM, order_by="sort_key", ancestor=models.user_key(viewer_id)
    )


# Reads a page may add when hidden items left it short: each costs what a page
# costs (3 round trips), and only a feed the clean-up tasks lag behind pays it.
MAX_EXTRA_READS = 2


async def home_feed(context: RequestContext, args: PageArgs) -> Page[FeedPhoto]:
    size = page_size(args)
    backward = args.last is not None
    page = await _visible(context, args)
    for _ in range(MAX_EXTRA_READS):
        missing = size - len(page.edges)
        if missing <= 0 or not (page.has_previous_page if backward else page.has_next_page):
            break
        # A whole page's worth each time: a run of hidden items is usually longer
        # than what is missing.
        if backward:
            more = await _visible(context, PageArgs(None, args.after, size, page.start_cursor))
            kept = more.edges[-missing:]
            cut = len(kept) < len(more.edges)
            page = Page(
                kept + page.edges,
                False,
                cut or more.has_previous_page,
                kept[0].cursor if cut else more.start_cursor or page.start_cursor,
                page.end_cursor,
            )
        else:
            more = await _visible(context, PageArgs(size, page.end_cursor, None, args.before))
            kept = more.edges[:missing]
            cut = len(kept) < len(more.edges)
            page = Page(
                page.edges + kept,
                cut or more.has_next_page,
                False,
                page.start_cursor,
                kept[-1].cursor if cut else more.end_cursor or page.end_cursor,
            )
    return page


async def _visible(context: RequestContext, args: PageArgs) -> Page[FeedPhoto]:
    """One read of the feed, with the items it must not show left out."""
    viewer = context.require_viewer()
    items = await paginate(
        context.store,
        context.cursors,
        feed_query(viewer.user_id),
        f"feed:{viewer.user_id}",
        args,
        feed_ref,
    )
    refs = [edge.node for edge in items.edges]
    owners = list(dict.fromkeys([ref.owner_id for ref in refs]))
    # Everything a feed page shows in one batched get: the photos, the follow
    # edges that may hide some, the owners, the viewer's likes and the counts.
    # The photos, edges and owners are primed into the DataLoader, where the
    # `owner` field (and its `viewerFollows`) finds them without another round
    # trip; the likes and counts are read here, once, into each FeedPhoto.
    edge_keys = [
        social_models.following_key(viewer.user_id, owner)
        for owner in owners
        if owner != viewer.user_id
    ]
    primed = [ref.photo for ref in refs]
    primed += edge_keys
    primed += [models.user_key(owner) for owner in owners]
    found = await context.loaders.fetch_priming(primed, [key for ref in refs for key in ref.extras])
    photos = found[: len(refs)]
    follows = found[len(refs) : len(primed) - len(owners)]
    # Then each photo's extras, in `FeedRef.extras` order: its like, its two totals.
    at = len(primed)
    liked, like_totals, comment_totals = found[at::3], found[at + 1 :: 3], found[at + 2 :: 3]
    followed = {follow.key.name for follow in follows if follow is not None}
    followed.add(viewer.user_id)
    value = counters.value
    kept = [
        Edge(
            FeedPhoto(
                models.photo_from_entity(photo),
                value(like_total),
                value(comment_total),
                like is not None,
            ),
            edge.cursor,
        )
        for edge, photo, like, like_total, comment_total in zip(
            items.edges, photos, liked, like_totals, comment_totals, strict=True
        )
        if photo is not None and edge.node.owner_id in followed
    ]
    return items.keeping(kept)
