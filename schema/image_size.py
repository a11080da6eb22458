"""The ImageSize enum: which derivative of a photo a URL points at."""

from __future__ import annotations

from enum import Enum

import strawberry

from resolvers.models import LARGE, MEDIUM, THUMBNAIL


@strawberry.enum(
    description=f"The sizes a photo is stored in, all WebP and never upscaled: THUMBNAIL is "
    f"a centred square {THUMBNAIL.width} pixels a side, MEDIUM {MEDIUM.width} and LARGE "
    f"{LARGE.width} pixels wide."
)
class ImageSize(Enum):
    # The values are the pipeline's variant names, under which a Photo keeps its blobs.
    THUMBNAIL = THUMBNAIL.name
    MEDIUM = MEDIUM.name
    LARGE = LARGE.name
