"""Headers every response carries.

The API answers JSON and images, which no browser should sniff as something
else, frame, or load into a page: `nosniff`, `X-Frame-Options: DENY` and a CSP of
`default-src 'none'` unless the response set its own (the GraphiQL page does, see
graphiql/page.py). HSTS only in production, where TLS is in front of the app; on
http://127.0.0.1 browsers ignore it anyway.

They are added by the app's outermost layer (observability/middleware.py), in the
same pass over the response's start message that echoes the request id: one send
wrapper for both instead of a middleware each.
"""

from __future__ import annotations

from collections.abc import Iterable

API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
HSTS = "max-age=63072000; includeSubDomains"  # two years, as hstspreload.org asks

Header = tuple[bytes, bytes]


class SecurityHeaders:
    """The headers, encoded once; a response keeps any of them it set itself."""

    def __init__(self, *, hsts: bool) -> None:
        headers = {
            "x-content-type-options": "nosniff",
            "x-frame-options": "DENY",
            "referrer-policy": "no-referrer",
            "content-security-policy": API_POLICY,
        }
        if hsts:
            headers["strict-transport-security"] = HSTS
        self._headers = [
            (name.encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()
        ]

    def added_to(self, headers: Iterable[Header]) -> list[Header]:
        """`headers` followed by each of ours whose name they lack (in any case)."""
        headers = list(headers)
        present = {name.lower() for name, _ in headers}
        headers += [header for header in self._headers if header[0] not in present]
        return headers
