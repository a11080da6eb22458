"""GraphiQL's files: React, GraphiQL and its explorer plugin from node_modules, as
package-lock.json pins them, and our start script beside this module.

Only the files the page names and the licences that cover them are served, each
at `/graphiql/assets/<package>@<version>/<path>` as on unpkg (the start script at
`start.<digest>.js`): a new version is a new URL, so every answer may be cached
for a year.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response

NODE_MODULES = Path(__file__).resolve().parents[1] / "node_modules"
START_SCRIPT = Path(__file__).with_name("start.js")
ASSETS_PATH = "/graphiql/assets"
CACHE_FOREVER = "public, max-age=31536000, immutable"
log = logging.getLogger("timeline.graphiql")

# In the order the page loads them: React, GraphiQL (which bundles @graphiql/react,
# CodeMirror and graphql-js), then the explorer, which plugs into GraphiQL's globals.
SCRIPTS = (
    ("react", "umd/react.production.min.js"),
    ("react-dom", "umd/react-dom.production.min.js"),
    ("graphiql", "graphiql.min.js"),
    ("@graphiql/plugin-explorer", "dist/index.umd.js"),
)
STYLESHEETS = (
    ("graphiql", "graphiql.min.css"),
    ("@graphiql/plugin-explorer", "dist/style.css"),
)
# The licence of every package whose code is in those files. The explorer plugin
# ships no licence file: it is MIT, from the GraphiQL repository, whose LICENSE is
# graphiql's; the graphiql-explorer it bundles has its own.
LICENCES = (
    ("react", "LICENSE"),
    ("react-dom", "LICENSE"),
    ("scheduler", "LICENSE"),
    ("graphiql", "LICENSE"),
    ("@graphiql/react", "LICENSE"),
    ("graphiql-explorer", "LICENSE"),
)
# npm nests a package under the one that needs it when its peers conflict.
_NESTED_UNDER = {"graphiql-explorer": "@graphiql/plugin-explorer"}

_CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}


class NotInstalled(Exception):
    """node_modules lacks a file the page needs: `npm ci` has not run."""


@dataclass(frozen=True)
class GraphiQLAssets:
    scripts: tuple[str, ...]  # URLs, in load order
    stylesheets: tuple[str, ...]
    licences: tuple[str, ...]
    files: Mapping[str, Path]  # URL -> file; nothing else is served

    @classmethod
    def installed(cls, node_modules: Path = NODE_MODULES) -> GraphiQLAssets | None:
        """The files as `npm ci` left them, or None (logged) when it has not run."""
        try:
            return cls._find(node_modules)
        except NotInstalled as missing:
            log.warning("GraphiQL cannot be served: %s; run `npm ci`", missing)
            return None

    @classmethod
    def _find(cls, node_modules: Path) -> GraphiQLAssets:
        files: dict[str, Path] = {}

        def add(package: str, path: str) -> str:
            directory = _package_directory(node_modules, package)
            url = f"{ASSETS_PATH}/{package}@{_version(directory)}/{path}"
            files[url] = _existing(directory / path)
            return url

        start = START_SCRIPT.read_bytes()
        start_url = f"{ASSETS_PATH}/start.{hashlib.sha256(start).hexdigest()[:16]}.js"
        files[start_url] = START_SCRIPT
        return cls(
            scripts=(*(add(*asset) for asset in SCRIPTS), start_url),
            stylesheets=tuple(add(*asset) for asset in STYLESHEETS),
            licences=tuple(add(*licence) for licence in LICENCES),
            files=files,
        )

    async def serve(self, request: Request) -> Response:
        path = self.files.get(request.url.path)
        if path is None:
            return PlainTextResponse("Not found.", status_code=404)
        return FileResponse(
            path,
            media_type=_CONTENT_TYPES.get(path.suffix, "text/plain; charset=utf-8"),
            headers={"Cache-Control": CACHE_FOREVER},
        )


def _package_directory(node_modules: Path, package: str) -> Path:
    nested = _NESTED_UNDER.get(package)
    if nested is not None and (node_modules / nested / "node_modules" / package).is_dir():
        return node_modules / nested / "node_modules" / package
    return node_modules / package


def _version(directory: Path) -> str:
    manifest = _existing(directory / "package.json")
    version: str = json.loads(manifest.read_text(encoding="utf-8"))["version"]
    return version


def _existing(path: Path) -> Path:
    if not path.is_file():
        raise NotInstalled(f"{path} is missing")
    return path
