"""What a GraphQL request over HTTP must look like, checked before strawberry reads it.

Each check raises cross_web's HTTPException (strawberry's own), which the GraphQL
route answers with a GraphQL error body: a malformed request is the client's
mistake, so it gets a 4xx that says what to fix, never a 500 or plain text.

- The body (and a multipart request's `operations` and `map`) is JSON that decodes
  as UTF-8, holds no lone surrogate (`"\\ud800"`: valid JSON, but no string a store
  or an encoder accepts), no NaN or Infinity, and is not nested past the parser.
- The body and `operations` are one JSON object: batches are not supported.
- A multipart `map` is `{field: [path, ...]}` whose fields are files that were sent
  and whose paths lead to a place in `operations`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from cross_web import HTTPException
from strawberry.file_uploads.utils import replace_placeholders_with_files

JSON_TYPES = ("application/json", "multipart/form-data")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # json.loads joins valid pairs
# In a body of ASCII bytes with no NUL (so UTF-8, not UTF-16 or 32), a surrogate can
# only come from an escape such as \ud800: without one the decoded value needs no walk.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def decode_request(data: str | bytes) -> dict[str, Any]:
    """The body of a JSON request, or a multipart request's `operations`."""
    value = decode_json(data)
    if isinstance(value, list):
        raise HTTPException(
            400,
            'Expected one JSON object such as {"query": "..."}, not an array: '
            "batched operations are not supported, send one operation per request.",
        )
    if not isinstance(value, dict):
        raise HTTPException(
            400, f'Expected a JSON object such as {{"query": "..."}}, not {_kind(value)}.'
        )
    return value


def decode_json(data: str | bytes) -> object:
    try:
        value = _loads(data)
    except RecursionError:
        raise HTTPException(400, "The JSON is nested too deeply.") from None
    except ValueError as error:  # JSONDecodeError, UnicodeDecodeError
        raise HTTPException(400, "The body is not valid JSON in UTF-8.") from error
    if _may_hold_a_surrogate(data) and _holds_lone_surrogate(value):
        raise HTTPException(
            400, "The JSON holds a lone UTF-16 surrogate (such as \\ud800), which is no character."
        )
    return value


def place_files(
    operations: dict[str, Any], files_map: object, files: Mapping[str, Any]
) -> dict[str, Any]:
    """`operations` with each file put where the multipart `map` says."""
    if not isinstance(files_map, dict):
        raise HTTPException(
            400,
            'The multipart map must be a JSON object such as {"0": ["variables.file"]}, '
            f"not {_kind(files_map)}.",
        )
    for field, paths in files_map.items():
        if not isinstance(paths, list) or not all(isinstance(path, str) for path in paths):
            raise HTTPException(
                400,
                f"The multipart map's {field!r} must be a list of paths such as 'variables.file'.",
            )
        if field not in files:
            raise HTTPException(
                400, f"The multipart map names the file {field!r}, which was not sent."
            )
    try:
        return replace_placeholders_with_files(operations, files_map, files)
    except (LookupError, TypeError, ValueError):
        raise HTTPException(
            400, "A path in the multipart map does not lead to a variable in `operations`."
        ) from None


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


# json.loads makes a decoder on every call given a hook; every request shares this one.
_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)


def _loads(data: str | bytes) -> object:
    """json.loads(data, parse_constant=_refuse_constant), step for step."""
    if isinstance(data, str):
        if data.startswith("\ufeff"):
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", data, 0)
        return _DECODER.decode(data)
    return _DECODER.decode(data.decode(json.detect_encoding(data), "surrogatepass"))


def _may_hold_a_surrogate(data: str | bytes) -> bool:
    if isinstance(data, str) or not data.isascii() or b"\x00" in data:
        return True
    return _SURROGATE_ESCAPE.search(data) is not None


def _holds_lone_surrogate(value: object) -> bool:
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if _LONE_SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "a number"


# A document that opens with a named operation (comments and commas are ignored
# tokens in GraphQL): its name, for the logs, without parsing the document.
_LEADING_OPERATION = re.compile(
    r"\A(?:[\s,\ufeff]|#[^\n\r]*)*(?:query|mutation|subscription)[\s,]+([_A-Za-z][_0-9A-Za-z]*)"
)


def leading_operation_name(document: str | None) -> str | None:
    """The name of the operation a document opens with, if it opens with a named one."""
    match = _LEADING_OPERATION.match(document or "")
    return match.group(1) if match else None
