"""The Content-Security-Policy of the GraphiQL page (served only in local mode).

The page is strawberry's: React and GraphiQL from unpkg.com (pinned, with SRI
hashes), one inline script that starts GraphiQL, one inline style block, a data:
favicon. The policy allows exactly that: external scripts from the origins the
page names, the inline scripts by their SHA-256 (so an injected script would not
run), and requests only back to this origin.
"""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import urlsplit

_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)
_EXTERNAL = re.compile(r"""(?:src|href)="(https://[^"]+)\"""")


def content_security_policy(html: str) -> str:
    origins = sorted({_origin(url) for url in _EXTERNAL.findall(html)})
    hashes = [f"'sha256-{_digest(script)}'" for script in _INLINE_SCRIPT.findall(html)]
    return "; ".join(
        [
            "default-src 'none'",
            " ".join(["script-src", *origins, *hashes]),
            # GraphiQL's editors set style attributes as they lay out.
            " ".join(["style-src", *origins, "'unsafe-inline'"]),
            " ".join(["font-src", *origins, "data:"]),
            "img-src 'self' data:",
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _digest(script: str) -> str:
    return base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
