"""Inputs, payloads and resolvers of follow, like and comment mutations."""

from __future__ import annotations

import strawberry

from resolvers import comments, follows, likes, models, nodes, users
from resolvers.mutations import Outcome
from resolvers.node_ids import expect_global_id, to_global_id
from schema.comment import Comment
from schema.info import Info
from schema.photo import Photo
from schema.profile import IDEMPOTENCY_HELP
from schema.user import User
from schema.user_error import UserError, user_errors


@strawberry.input
class FollowInput:
    user_id: strawberry.ID
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_HELP)


@strawberry.input
class LikeInput:
    photo_id: strawberry.ID
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_HELP)


@strawberry.input
class AddCommentInput:
    photo_id: strawberry.ID
    text: str = strawberry.field(description=f"1 to {comments.COMMENT_MAX} characters.")
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_HELP)


@strawberry.input
class DeleteCommentInput:
    comment_id: strawberry.ID
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_HELP)


@strawberry.type
class FollowPayload:
    user: User | None
    errors: list[UserError]


@strawberry.type
class LikePayload:
    photo: Photo | None
    errors: list[UserError]


@strawberry.type
class AddCommentPayload:
    comment: Comment | None
    errors: list[UserError]


@strawberry.type
class DeleteCommentPayload:
    deleted_comment_id: strawberry.ID | None
    errors: list[UserError]


async def _follow_payload(info: Info, outcome: Outcome) -> FollowPayload:
    user = await users.user_by_id(info.context, outcome.key.name) if outcome.key else None
    return FollowPayload(user=User.from_model(user) if user else None, errors=user_errors(outcome))


async def follow(info: Info, input: FollowInput) -> FollowPayload:
    target = expect_global_id(input.user_id, models.USER, "userId")
    return await _follow_payload(
        info, await follows.follow(info.context, target, input.idempotency_key)
    )


async def unfollow(info: Info, input: FollowInput) -> FollowPayload:
    target = expect_global_id(input.user_id, models.USER, "userId")
    return await _follow_payload(
        info, await follows.unfollow(info.context, target, input.idempotency_key)
    )


async def _like_payload(info: Info, outcome: Outcome) -> LikePayload:
    model = await nodes.photo(info.context, outcome.key) if outcome.key else None
    photo = Photo.from_model(model) if model else None
    return LikePayload(photo=photo, errors=user_errors(outcome))


async def like_photo(info: Info, input: LikeInput) -> LikePayload:
    photo = expect_global_id(input.photo_id, models.PHOTO, "photoId")
    outcome = await likes.set_like(info.context, photo, input.idempotency_key, liked=True)
    return await _like_payload(info, outcome)


async def unlike_photo(info: Info, input: LikeInput) -> LikePayload:
    photo = expect_global_id(input.photo_id, models.PHOTO, "photoId")
    outcome = await likes.set_like(info.context, photo, input.idempotency_key, liked=False)
    return await _like_payload(info, outcome)


async def add_comment(info: Info, input: AddCommentInput) -> AddCommentPayload:
    photo = expect_global_id(input.photo_id, models.PHOTO, "photoId")
    outcome = await comments.add_comment(info.context, photo, input.text, input.idempotency_key)
    model = await nodes.comment(info.context, outcome.key) if outcome.key else None
    comment = Comment.from_model(model) if model else None
    return AddCommentPayload(comment=comment, errors=user_errors(outcome))


async def delete_comment(info: Info, input: DeleteCommentInput) -> DeleteCommentPayload:
    key = expect_global_id(input.comment_id, models.COMMENT, "commentId")
    outcome = await comments.delete_comment(info.context, key, input.idempotency_key)
    deleted = strawberry.ID(to_global_id("Comment", outcome.key)) if outcome.key else None
    return DeleteCommentPayload(deleted_comment_id=deleted, errors=user_errors(outcome))
