"""The trusted documents: an operation manifest, as Apollo's codegen writes it
(`generate-persisted-query-manifest`, Apollo iOS and Kotlin's `operationManifest`):

    {"format": "apollo-persisted-query-manifest", "version": 1,
     "operations": [{"id": "<sha256 of body>", "name": "Feed", "type": "query",
                     "body": "query Feed { ... }"}]}

Read once at start (TIMELINE_TRUSTED_DOCUMENTS). Anything malformed stops the
start with a message naming the operation: a wrong hash or a missing body found
in production would otherwise refuse the app's own requests one by one.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

MANIFEST_FORMAT = "apollo-persisted-query-manifest"
OPERATION_TYPES = frozenset({"query", "mutation", "subscription"})
SHA256_HEX = re.compile("[0-9a-f]{64}")


class ManifestError(ValueError):
    """The operation manifest cannot be used; the app refuses to start."""


def document_hash(document: str) -> str:
    """Apollo's hash of a document: SHA-256 of its UTF-8 text, lower-case hex."""
    return hashlib.sha256(document.encode("utf-8", "surrogatepass")).hexdigest()


def load_manifest(path: Path) -> dict[str, str]:
    """Each operation's body by its id."""
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ManifestError(f"cannot read the operation manifest {path}: {error}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise ManifestError(f"{path} is not an {MANIFEST_FORMAT} (its `format` says otherwise)")
    if manifest.get("version") != 1:
        raise ManifestError(f"{path}: only version 1 manifests are understood")
    operations = manifest.get("operations")
    if not isinstance(operations, list):
        raise ManifestError(f"{path}: `operations` must be a list")
    bodies: dict[str, str] = {}
    for index, operation in enumerate(operations):
        where = f"{path}: operations[{index}]"
        if not isinstance(operation, dict):
            raise ManifestError(f"{where} is not an object")
        identifier, body = operation.get("id"), operation.get("body")
        if not isinstance(body, str) or not body.strip():
            raise ManifestError(f"{where} has no `body`")
        if not isinstance(identifier, str) or not SHA256_HEX.fullmatch(identifier):
            raise ManifestError(f"{where}: `id` must be the SHA-256 of its body in lower-case hex")
        if document_hash(body) != identifier:
            raise ManifestError(f"{where}: `id` is not the SHA-256 of its body")
        if not isinstance(operation.get("name"), str):
            raise ManifestError(f"{where} has no `name`")
        if operation.get("type") not in OPERATION_TYPES:
            raise ManifestError(f"{where}: `type` must be one of {sorted(OPERATION_TYPES)}")
        bodies[identifier] = body
    return bodies
