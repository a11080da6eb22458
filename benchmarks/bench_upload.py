"""Uploading a 12 MP camera JPEG end to end, against bare Pillow on the same file.

    python -m benchmarks.bench_upload [--rounds 5] [--width 4000 --height 3000]

End to end: a GraphQL multipart POST through the real app over httpx's ASGI
transport (CSRF and size guards, multipart parsing into a spooled temporary
file, sniffing, hashing, bounds, draft decode, orientation, sRGB, three WebP
derivatives, blurhash, blob writes, the StrayBlob record, the Photo transaction,
the payload). Bare: Pillow alone on the same file, as lean as it gets: open,
draft, decode, resize to the same three output sizes, encode the same WebP.

Time: the two sides alternate for `rounds` rounds and the medians are compared.
Memory: each side runs once in a fresh process after a warm-up; the growth is the
peak resident set (VmHWM, reset before the run) over the resident set before it.
The Python heap's peak (tracemalloc) of the upload shows the body is never held
in memory: it stays far below the file's size.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import statistics
import tempfile
import time
import tracemalloc
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

from app import create_app
from auth.dev_tokens import key_path_in, mint_dev_token
from media.derivatives import LARGE, MEDIUM, THUMBNAIL, WEBP_METHOD, WEBP_QUALITY
from settings import MediaSettings, Settings
from store.sqlite import SQLiteStore
from tests.utils import images
from tests.utils.uploads import APOLLO_HEADERS, FILE_MAP, operations

MB = 1024 * 1024


def bare_pipeline(path: Path) -> int:
    """Decode (draft) -> resize -> encode with Pillow and nothing else, to the same
    output sizes as the app's (the photo is portrait as displayed, so the 1080-wide
    derivative is 1080 x 1440): no checks, no rotation, no colour work, no storage."""
    encoded = 0
    with Image.open(path) as image:
        turned = image.getexif().get(0x0112, 1) >= 5
        scale = LARGE.width / (image.height if turned else image.width)
        image.draft("RGB", (round(image.width * scale), round(image.height * scale)))
        image.load()
        width, height = image.size
        side = min(width, height)
        box = ((width - side) // 2, (height - side) // 2, (width + side) // 2, (height + side) // 2)
        jobs: list[tuple[tuple[int, int], tuple[int, int, int, int] | None]] = [
            ((THUMBNAIL.width, THUMBNAIL.width), box)
        ]
        for target in (MEDIUM.width, LARGE.width):
            fraction = target / (height if turned else width)
            jobs.append(((round(width * fraction), round(height * fraction)), None))
        for size, crop in jobs:
            buffer = io.BytesIO()
            resized = image.resize(size, Image.Resampling.LANCZOS, box=crop, reducing_gap=3.0)
            resized.save(buffer, "WEBP", quality=WEBP_QUALITY, method=WEBP_METHOD)
            encoded += buffer.tell()
    return encoded


class Uploader:
    """The real app in process, with a signed-up user ready to post."""

    def __init__(self, workdir: Path, *, image_memory_budget: int | None = None) -> None:
        media = MediaSettings(image_memory_budget=image_memory_budget)
        self.settings = Settings(var_dir=workdir, secret_key=b"bench-secret" * 4, media=media)
        self.app = create_app(self.settings, store=SQLiteStore(workdir / "bench.db"))
        token = mint_dev_token(key_path_in(workdir), "bench-user")
        self.headers = {"Authorization": f"Bearer {token}", **APOLLO_HEADERS}

    async def __aenter__(self) -> Uploader:
        self._lifespan = self.app.router.lifespan_context(self.app)
        await self._lifespan.__aenter__()
        transport = httpx.ASGITransport(app=self.app)
        self.http = httpx.AsyncClient(transport=transport, base_url="http://bench")
        query = "mutation($i: CreateProfileInput!) { createProfile(input: $i) { errors { code } } }"
        variables = {"i": {"username": "bench", "displayName": "Bench"}}
        await self.http.post(
            "/graphql", json={"query": query, "variables": variables}, headers=self.headers
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.aclose()
        await self._lifespan.__aexit__(None, None, None)

    async def upload(self, path: Path) -> None:
        with path.open("rb") as file:  # streamed from disk, as a phone streams it
            response = await self.http.post(
                "/graphql",
                headers=self.headers,
                data={"operations": json.dumps(operations()), "map": json.dumps(FILE_MAP)},
                files={"0": (path.name, file, "image/jpeg")},
            )
        payload = response.json()["data"]["createPhoto"]
        assert payload["errors"] == [], payload


async def time_both(path: Path, rounds: int) -> dict[str, float]:
    bare: list[float] = []
    end_to_end: list[float] = []
    with tempfile.TemporaryDirectory() as workdir:
        async with Uploader(Path(workdir)) as uploader:
            await uploader.upload(path)  # warm-up: imports, caches, the first SQLite index
            bare_pipeline(path)
            for _ in range(rounds):
                started = time.perf_counter()
                bare_pipeline(path)
                bare.append(time.perf_counter() - started)
                started = time.perf_counter()
                await uploader.upload(path)
                end_to_end.append(time.perf_counter() - started)
    return {"bare_s": statistics.median(bare), "end_to_end_s": statistics.median(end_to_end)}


def _reset_peak_rss() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # Linux: VmHWM starts again from VmRSS


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise LookupError(field)


def measure_memory(side: str, path_text: str) -> dict[str, float]:
    """In a fresh process: resident-set growth of one run of `side`, after a warm-up."""
    path = Path(path_text)

    async def run() -> dict[str, float]:
        with tempfile.TemporaryDirectory() as workdir:
            async with Uploader(Path(workdir)) as uploader:
                small = Path(workdir) / "warm-up.jpg"
                await asyncio.to_thread(small.write_bytes, images.jpeg_with_gps())
                await uploader.upload(small)
                bare_pipeline(small)
                before = _status("VmRSS")
                _reset_peak_rss()
                tracemalloc.start()
                if side == "end_to_end":
                    await uploader.upload(path)
                else:
                    bare_pipeline(path)
                _, python_peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
                return {
                    "rss_growth_mb": (_status("VmHWM") - before) / MB,
                    "python_heap_peak_mb": python_peak / MB,
                }

    return asyncio.run(run())


def run(
    width: int = 4000, height: int = 3000, rounds: int = 5, memory: bool = True
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "IMG_0001.JPG"
        path.write_bytes(images.camera_jpeg(width, height))
        results: dict[str, Any] = {"file_mb": path.stat().st_size / MB}
        results.update(asyncio.run(time_both(path, rounds)))
        results["end_to_end_over_bare"] = results["end_to_end_s"] / results["bare_s"]
        if memory:
            with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
                for side in ("bare", "end_to_end"):
                    for name, value in (
                        pool.submit(measure_memory, side, str(path)).result().items()
                    ):
                        results[f"{side}_{name}"] = value
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5, help="alternating timed rounds")
    parser.add_argument("--width", type=int, default=4000)
    parser.add_argument("--height", type=int, default=3000)
    args = parser.parse_args()
    results = run(args.width, args.height, args.rounds)
    width = max(len(name) for name in results)
    for name, value in results.items():
        print(f"{name:<{width}}  {value:10.3f}")


if __name__ == "__main__":
    main()
