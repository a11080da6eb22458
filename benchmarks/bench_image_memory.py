"""Peak memory of the largest images the server accepts, one at a time and at once.

    python -m benchmarks.bench_image_memory [--side 7000] [--concurrent 10] [--budget-mb N]

A 7000 x 7000 RGB PNG (49 MP, under the 50 MP limit; about 160 KB, because it
compresses well) is posted through the real app over httpx's ASGI transport,
once, then `concurrent` times at once. Each scenario runs in a fresh process,
after a small warm-up upload; the figure is the peak resident set (VmHWM, reset
just before) over the resident set before. Concurrent uploads that the image
memory budget turns away (503) are counted, not retried.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from benchmarks.bench_upload import MB, Uploader, _reset_peak_rss, _status
from tests.utils import images
from tests.utils.uploads import FILE_MAP, operations


async def _post(uploader: Uploader, data: bytes) -> str:
    """`ok`, or the code of the error that refused the upload."""
    response = await uploader.http.post(
        "/graphql",
        headers=uploader.headers,
        data={"operations": json.dumps(operations()), "map": json.dumps(FILE_MAP)},
        files={"0": ("big.png", data, "image/png")},
    )
    body = response.json()
    if body.get("errors"):
        return str(body["errors"][0]["extensions"]["code"])
    errors = body["data"]["createPhoto"]["errors"]
    return str(errors[0]["code"]) if errors else "ok"


def measure(side: int, concurrent: int, budget_mb: int | None) -> dict[str, Any]:
    """In a fresh process: resident-set growth of `concurrent` uploads at once."""
    data = images.encode(images.marked_photo(side, side), "PNG")

    async def run() -> dict[str, Any]:
        with tempfile.TemporaryDirectory() as workdir:
            budget = budget_mb * MB if budget_mb else None
            uploader = Uploader(Path(workdir), image_memory_budget=budget)
            async with uploader:
                await _post(uploader, images.png())  # warm-up: imports, caches, the store
                before = _status("VmRSS")
                _reset_peak_rss()
                outcomes = await asyncio.gather(*(_post(uploader, data) for _ in range(concurrent)))
                growth = (_status("VmHWM") - before) / MB
        counts = {outcome: outcomes.count(outcome) for outcome in sorted(set(outcomes))}
        return {"rss_growth_mb": growth, "outcomes": counts, "file_kb": len(data) / 1024}

    return asyncio.run(run())


def run(side: int = 7000, concurrent: int = 10, budget_mb: int | None = None) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for label, count in (("one", 1), (f"{concurrent}_at_once", concurrent)):
        # A fresh process per scenario: freed memory a process keeps would blur the next one.
        with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
            results[label] = pool.submit(measure, side, count, budget_mb).result()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--side", type=int, default=7000, help="the PNG's width and height")
    parser.add_argument("--concurrent", type=int, default=10)
    parser.add_argument("--budget-mb", type=int, default=None, help="default: from the machine")
    args = parser.parse_args()
    for label, figures in run(args.side, args.concurrent, args.budget_mb).items():
        print(
            f"{label:<12} peak RSS growth {figures['rss_growth_mb']:8.1f} MB   "
            f"outcomes {figures['outcomes']}   file {figures['file_kb']:.0f} KB"
        )


if __name__ == "__main__":
    main()
