"""Headers every response carries, as an ASGI middleware.

The API answers JSON and images, which no browser should sniff as something
else, frame, or load into a page: `nosniff`, `X-Frame-Options: DENY` and a CSP of
`default-src 'none'` unless the response set its own (the GraphiQL page does, see
graphiql/page.py). HSTS only in production, where TLS is in front of the app; on
http://127.0.0.1 browsers ignore it anyway.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
HSTS = "max-age=63072000; includeSubDomains"  # two years, as hstspreload.org asks


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self._app = app
        self._headers = {
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "no-referrer",
            "Content-Security-Policy": API_POLICY,
        }
        if hsts:
            self._headers["Strict-Transport-Security"] = HSTS

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self._headers.items():
                    headers.setdefault(name, value)
            await send(message)

        await self._app(scope, receive, send_with_headers)
