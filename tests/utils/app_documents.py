"""The documents a mobile app of this API sends, as Apollo's code generators write
them: named operations, fragments per screen component, `__typename` in every
selection set. The query limits must take each of them with room to spare."""

from __future__ import annotations

USER_CHIP = """
fragment UserChip on User {
  __typename
  id
  username
  displayName
}
"""

PHOTO_CARD = """
fragment PhotoCard on Photo {
  __typename
  id
  caption
  createdAt
  width
  height
  blurhash
  dominantColor
  thumbnail: image(size: THUMBNAIL)
  medium: image(size: MEDIUM)
  large: image(size: LARGE)
  likeCount
  viewerHasLiked
  commentCount
  owner { ...UserChip viewerFollows }
}
"""

COMMENT_ROW = """
fragment CommentRow on Comment {
  __typename
  id
  text
  createdAt
  author { ...UserChip }
}
"""

PAGE_INFO = """
fragment PageInfoFields on PageInfo {
  __typename
  hasNextPage
  hasPreviousPage
  startCursor
  endCursor
}
"""

HOME_FEED = (
    """
query HomeFeed($first: Int = 20, $after: String, $withComments: Boolean = true) {
  viewer {
    __typename
    user { ...UserChip }
    unreadNotificationCount
    feed(first: $first, after: $after) {
      __typename
      edges {
        __typename
        cursor
        node {
          ...PhotoCard
          comments(last: 3) @include(if: $withComments) {
            __typename
            nodes { ...CommentRow }
          }
        }
      }
      pageInfo { ...PageInfoFields }
    }
  }
}
"""
    + USER_CHIP
    + PHOTO_CARD
    + COMMENT_ROW
    + PAGE_INFO
)

PROFILE = (
    """
query Profile($username: String!, $first: Int = 30, $after: String) {
  user(username: $username) {
    __typename
    ...UserChip
    followerCount
    followingCount
    viewerFollows
    photos(first: $first, after: $after) {
      __typename
      edges { __typename cursor node { ...PhotoCard } }
      pageInfo { ...PageInfoFields }
    }
    followers(first: 5) { __typename nodes { ...UserChip } }
  }
}
"""
    + USER_CHIP
    + PHOTO_CARD
    + PAGE_INFO
)

PHOTO_DETAIL = (
    """
query PhotoDetail($id: ID!, $first: Int = 50, $after: String) {
  node(id: $id) {
    __typename
    id
    ... on Photo {
      ...PhotoCard
      comments(first: $first, after: $after) {
        __typename
        edges { __typename cursor node { ...CommentRow } }
        pageInfo { ...PageInfoFields }
      }
    }
  }
}
"""
    + USER_CHIP
    + PHOTO_CARD
    + COMMENT_ROW
    + PAGE_INFO
)

NOTIFICATIONS = (
    """
query Notifications($first: Int = 30, $after: String) {
  viewer {
    __typename
    unreadNotificationCount
    notifications(first: $first, after: $after) {
      __typename
      edges {
        __typename
        cursor
        node {
          __typename
          id
          kind
          actorCount
          unread
          updatedAt
          message
          actors { ...UserChip }
          photo { __typename id thumbnail: image(size: THUMBNAIL) blurhash }
        }
      }
      pageInfo { ...PageInfoFields }
    }
  }
}
"""
    + USER_CHIP
    + PAGE_INFO
)

FOLLOWERS = (
    """
query Followers($username: String!, $first: Int = 50, $after: String) {
  user(username: $username) {
    __typename
    id
    followers(first: $first, after: $after) {
      __typename
      edges { __typename cursor node { ...UserChip viewerFollows followerCount } }
      pageInfo { ...PageInfoFields }
    }
  }
}
"""
    + USER_CHIP
    + PAGE_INFO
)

REFETCH_CARDS = (
    """
query RefetchCards($ids: [ID!]!) {
  nodes(ids: $ids) { __typename id ... on Photo { ...PhotoCard } }
}
"""
    + USER_CHIP
    + PHOTO_CARD
)

CREATE_PHOTO = (
    """
mutation CreatePhoto($input: CreatePhotoInput!) {
  createPhoto(input: $input) {
    __typename
    photo { ...PhotoCard }
    errors { __typename code message field }
  }
}
"""
    + USER_CHIP
    + PHOTO_CARD
)

# name -> (document, variables at the largest the screens ask for)
APP_DOCUMENTS: dict[str, tuple[str, dict[str, object]]] = {
    "HomeFeed": (HOME_FEED, {"first": 50}),
    "Profile": (PROFILE, {"username": "alice", "first": 50}),
    "PhotoDetail": (PHOTO_DETAIL, {"id": "UGhvdG86eA", "first": 50}),
    "Notifications": (NOTIFICATIONS, {"first": 50}),
    "Followers": (FOLLOWERS, {"username": "alice", "first": 50}),
    "RefetchCards": (REFETCH_CARDS, {"ids": ["UGhvdG86eA"] * 100}),
    "CreatePhoto": (CREATE_PHOTO, {"input": {"image": None}}),
}
