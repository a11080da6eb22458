"""A local stand-in for Mailgun's sending API, checking every request as Mailgun would.

    with serving_mailgun("mg.example.com", "key-123") as mailgun:
        mailgun.answer("bob@example.com", 429)   # that address's next answer
        ... mailgun.sent (the accepted forms), mailgun.problems (what was wrong)

`POST /v3/<domain>/messages` with HTTP Basic `api:<key>` (401 otherwise, as Mailgun
answers a wrong key; 404 for another domain), a form body whose fields are those
Mailgun documents (from, to, subject, text, html, h:<header>, o:<option>,
v:<variable>; anything else is a 400 and a problem), each scalar field once, no
line break in a header. An accepted message is answered as Mailgun does:
200 {"id": "<...>", "message": "Queued. Thank you."}.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import urllib.parse
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler

from tests.utils.loopback import LoopbackServer

_FIELDS = {"from", "to", "cc", "bcc", "subject", "text", "html"}
_PREFIXED = re.compile(r"(h|o|v|t):[A-Za-z0-9_.-]+")
_LISTS = {"to", "cc", "bcc"}


@dataclass(frozen=True)
class Accepted:
    form: dict[str, str]

    @property
    def headers(self) -> dict[str, str]:
        return {name[2:]: value for name, value in self.form.items() if name.startswith("h:")}


class MailgunStub:
    def __init__(self, domain: str, api_key: str) -> None:
        self.domain, self.api_key = domain, api_key
        self.sent: list[Accepted] = []
        self.problems: list[str] = []
        self.requests = 0
        self._answers: dict[str, deque[int]] = {}
        self._lock = threading.Lock()
        self._http = LoopbackServer(self._handler_class())

    @property
    def url(self) -> str:
        return self._http.base_url

    def answer(self, address: str, *statuses: int) -> None:
        """The next answers for mail to `address`; 200 once they run out."""
        with self._lock:
            self._answers.setdefault(address, deque()).extend(statuses)

    def start(self) -> None:
        self._http.start()

    def stop(self) -> None:
        self._http.stop()

    def _handle(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str]]:
        with self._lock:
            self.requests += 1
        if method != "POST" or path != f"/v3/{self.domain}/messages":
            known = path.startswith("/v3/") and path.endswith("/messages")
            return self._refuse(
                404,
                f"{method} {path}: not a sending endpoint of this domain"
                if known
                else f"{method} {path}: no such endpoint",
            )
        expected = "Basic " + base64.b64encode(f"api:{self.api_key}".encode()).decode()
        if headers.get("authorization") != expected:
            return self._refuse(401, "wrong or missing Basic api:<key> credentials")
        if headers.get("content-type", "").split(";")[0] != "application/x-www-form-urlencoded":
            return self._refuse(400, f"unexpected content type {headers.get('content-type')!r}")
        try:
            pairs = urllib.parse.parse_qsl(
                body.decode("utf-8"), keep_blank_values=True, strict_parsing=True
            )
        except (UnicodeDecodeError, ValueError) as error:
            return self._refuse(400, f"not a form: {error}")
        form: dict[str, str] = {}
        for name, value in pairs:
            if name not in _FIELDS and not _PREFIXED.fullmatch(name):
                return self._refuse(400, f"unknown field {name!r}")
            if name in form and name not in _LISTS:
                return self._refuse(400, f"field {name!r} given twice")
            if name.startswith("h:") and ("\r" in value or "\n" in value):
                return self._refuse(400, f"a line break in header {name!r}")
            form[name] = value
        missing = [f for f in ("from", "to", "subject") if not form.get(f)]
        if missing or not (form.get("text") or form.get("html")):
            return self._refuse(400, f"missing {missing or 'text or html'}")
        with self._lock:
            queued = self._answers.get(form["to"])
            status = queued.popleft() if queued else 200
            if status == 200:
                self.sent.append(Accepted(form))
        if status != 200:
            return status, {"message": f"scripted answer {status}"}
        return 200, {"id": f"<{len(self.sent)}@{self.domain}>", "message": "Queued. Thank you."}

    def _refuse(self, status: int, problem: str) -> tuple[int, dict[str, str]]:
        with self._lock:
            self.problems.append(problem)
        return status, {"message": problem}

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self._serve("POST")

            def do_GET(self) -> None:
                self._serve("GET")

            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                headers = {name.lower(): value for name, value in self.headers.items()}
                status, answer = stub._handle(method, self.path, headers, body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler


@contextmanager
def serving_mailgun(domain: str, api_key: str) -> Iterator[MailgunStub]:
    stub = MailgunStub(domain, api_key)
    stub.start()
    try:
        yield stub
    finally:
        stub.stop()
