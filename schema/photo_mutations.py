"""Inputs, payloads and resolvers of createPhoto, updateCaption and deletePhoto."""

from __future__ import annotations

from typing import BinaryIO

import strawberry
from strawberry.file_uploads import Upload

from errors import BadUserInput
from resolvers import models, nodes, photo_writes
from resolvers.mutations import Outcome
from resolvers.node_ids import expect_global_id, to_global_id
from schema.info import Info
from schema.photo import Photo
from schema.profile import IDEMPOTENCY_HELP
from schema.user_error import UserError, user_errors

_CAPTION_HELP = (
    f"Up to {photo_writes.CAPTION_MAX} characters; line breaks are kept, other control "
    "characters are refused. Leading and trailing spaces are trimmed."
)


@strawberry.input
class CreatePhotoInput:
    image: Upload = strawberry.field(
        description="The photo, sent as a GraphQL multipart request: JPEG, PNG, WebP or "
        "HEIC/HEIF, judged by its content, at most 25 MiB and 50 megapixels by default."
    )
    caption: str = strawberry.field(default="", description=_CAPTION_HELP)
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_HELP)


@strawberry.input
class UpdateCaptionInput:
    photo_id: strawberry.ID
    caption: str = strawberry.field(description=_CAPTION_HELP)
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_HELP)


@strawberry.input
class DeletePhotoInput:
    photo_id: strawberry.ID
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_HELP)


@strawberry.type
class PhotoPayload:
    photo: Photo | None
    errors: list[UserError]


@strawberry.type
class DeletePhotoPayload:
    deleted_photo_id: strawberry.ID | None
    errors: list[UserError]


async def _photo_payload(info: Info, outcome: Outcome) -> PhotoPayload:
    # Read after the commit: a replayed outcome returns the photo as it is now.
    model = await nodes.photo(info.context, outcome.key) if outcome.key else None
    photo = Photo.from_model(model) if model else None
    return PhotoPayload(photo=photo, errors=user_errors(outcome))


def _uploaded_file(image: object) -> BinaryIO:
    # The Upload scalar passes through whatever the request held: a file part of a
    # multipart request, or a plain JSON value from a client that sent none.
    file = getattr(image, "file", None)
    if file is None or not hasattr(file, "read") or not hasattr(file, "seek"):
        raise BadUserInput(
            "Send `image` as a file in a GraphQL multipart request.", argument="image"
        )
    return file  # type: ignore[no-any-return]


async def create_photo(info: Info, input: CreatePhotoInput) -> PhotoPayload:
    image = _uploaded_file(input.image)
    outcome = await photo_writes.create_photo(
        info.context, image, input.caption, input.idempotency_key
    )
    return await _photo_payload(info, outcome)


async def update_caption(info: Info, input: UpdateCaptionInput) -> PhotoPayload:
    photo = expect_global_id(input.photo_id, models.PHOTO, "photoId")
    outcome = await photo_writes.update_caption(
        info.context, photo, input.caption, input.idempotency_key
    )
    return await _photo_payload(info, outcome)


async def delete_photo(info: Info, input: DeletePhotoInput) -> DeletePhotoPayload:
    photo = expect_global_id(input.photo_id, models.PHOTO, "photoId")
    outcome = await photo_writes.delete_photo(info.context, photo, input.idempotency_key)
    deleted = strawberry.ID(to_global_id("Photo", outcome.key)) if outcome.key else None
    return DeletePhotoPayload(deleted_photo_id=deleted, errors=user_errors(outcome))
