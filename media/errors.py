"""Why an upload was refused: expected failures, each with the code clients see.

    ImageRejected                 UserErrorCode
     ├── EmptyImage               EMPTY_IMAGE         zero bytes
     ├── ImageTooLarge            IMAGE_TOO_LARGE     more bytes than the upload limit
     ├── UnsupportedImage         UNSUPPORTED_IMAGE   not JPEG, PNG, WebP or HEIC by content,
     │                                                or an extreme aspect ratio
     ├── TooManyPixels            TOO_MANY_PIXELS     the header declares more pixels than allowed
     │    └── ImageOverBudget                         more than the whole image memory budget
     │                                                (media/budget.py) would ever hold
     └── CorruptImage             CORRUPT_IMAGE       truncated or undecodable

The pipeline raises them before it writes anything, so a refused upload leaves
nothing behind. `ImageWorkBusy` (an errors.Unavailable) is no refusal: the
budget had no room within the wait, and the same upload may be sent again (a
top-level UNAVAILABLE error, HTTP 503 with Retry-After). Anything else that
escapes the pipeline is a bug, masked for clients like every other unexpected error.
"""

from __future__ import annotations

from typing import ClassVar

from errors import Unavailable


class ImageRejected(Exception):
    code: ClassVar[str] = "UNSUPPORTED_IMAGE"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class EmptyImage(ImageRejected):
    code = "EMPTY_IMAGE"


class ImageTooLarge(ImageRejected):
    code = "IMAGE_TOO_LARGE"


class UnsupportedImage(ImageRejected):
    code = "UNSUPPORTED_IMAGE"


class TooManyPixels(ImageRejected):
    code = "TOO_MANY_PIXELS"


class ImageOverBudget(TooManyPixels):
    pass


class ImageWorkBusy(Unavailable):
    pass


class CorruptImage(ImageRejected):
    code = "CORRUPT_IMAGE"
