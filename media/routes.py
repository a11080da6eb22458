"""The route that serves the embedded blob store's files at /media/<name>.

Like the internal task routes, this is transport living beside the layer it
serves: app.py mounts it only when blobs are local files. Names are content
derived and never change bytes, so a response caches for a year, the name is a
strong ETag, and a revalidation is a 304 without touching the file.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from media.blobs import IMMUTABLE_CACHE_CONTROL, content_type_of, etag_matches, etag_of
from media.local_blobs import URL_PREFIX, LocalBlobStore


def media_route(blobs: LocalBlobStore) -> Route:
    async def media_file(request: Request) -> Response:
        name = request.path_params["name"]
        path = blobs.path_of(name)  # None for anything but a blob name: no traversal
        if path is None or not path.is_file():
            return PlainTextResponse("Not found", status_code=404)
        headers = {
            "ETag": etag_of(name),
            "Cache-Control": IMMUTABLE_CACHE_CONTROL,
            "X-Content-Type-Options": "nosniff",
        }
        if etag_matches(request.headers.get("if-none-match"), headers["ETag"]):
            return Response(status_code=304, headers=headers)
        return FileResponse(path, headers=headers, media_type=content_type_of(name))

    return Route(URL_PREFIX + "{name}", media_file, methods=["GET"])
