"""The peak resident-set growth of processing one image, in a fresh process.

    python -m tests.utils.peak_memory IMAGE   ->  {"growth": bytes, "cost": bytes}

The pipeline is warmed up on a small image first (imports, codecs, caches);
then the file's header is read, the peak (VmHWM) is reset to the current
resident set, and the image is rendered. Linux only (/proc/self/clear_refs).
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

from media.budget import return_freed_memory
from media.pipeline import ImageLimits, configure_pillow, inspect, process_image, render
from tests.utils import images

STATUS = Path("/proc/self/status")
CLEAR_REFS = Path("/proc/self/clear_refs")


def _status(field: str) -> int:
    for line in STATUS.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise LookupError(field)


def measure(data: bytes) -> dict[str, int]:
    limits = ImageLimits()
    configure_pillow(limits.max_pixels)
    process_image(io.BytesIO(images.png()), limits)
    return_freed_memory()
    plan = inspect(io.BytesIO(data), limits)
    before = _status("VmRSS")
    CLEAR_REFS.write_text("5")  # VmHWM starts again from VmRSS
    render(plan)
    return {"growth": _status("VmHWM") - before, "cost": plan.cost}


if __name__ == "__main__":
    print(json.dumps(measure(Path(sys.argv[1]).read_bytes())))
