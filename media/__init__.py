"""Images: the upload pipeline (Pillow) and the blob store port with its adapters.

pipeline.py     sniff, bound, decode, orient, strip, derivatives, blurhash
image_work.py   that work for the event loop: its pool, admission, the blob hand-over
budget.py       the memory budget image work is admitted against
cost.py         an upload's peak memory, estimated from its header
frame.py        the reduced working frame, made a strip of rows at a time
blobs.py        the BlobStore port, names written once, ETags
local_blobs.py  files under var/media, served by the app
gcs_blobs.py    Cloud Storage, public URLs
errors.py       why an image is refused (typed, expected)
"""

from media.blobs import BlobStore, blob_name
from media.derivatives import VARIANTS, Rendition, Variant
from media.errors import ImageRejected
from media.image_work import ImagePipeline
from media.pipeline import ImageLimits, ProcessedImage, process_image
from media.services import Media

__all__ = [
    "VARIANTS",
    "BlobStore",
    "ImageLimits",
    "ImagePipeline",
    "ImageRejected",
    "Media",
    "ProcessedImage",
    "Rendition",
    "Variant",
    "blob_name",
    "process_image",
]
