"""A local stand-in for FCM HTTP v1 and Google's OAuth 2.0 token endpoint.

It checks every request the way Google would refuse a wrong one, and answers per
scenario:

    with serving_fcm("demo-timeline") as fcm:
        credentials = fcm.credentials()    # a service account whose token_uri is the stub
        fcm.answer(token, unregistered())  # that token's next answer; 200s once they run out
        ... fcm.sent (the messages), fcm.problems (what was wrong with any request)

Token exchange (`POST /token`): a JWT-bearer grant whose assertion is RS256-signed
by the service account's key, for the firebase.messaging scope, with Google's
token endpoint as `aud` (what Google checks, whatever URI the grant is posted
to). Sends (`POST /v1/projects/<project>/messages:send`): a bearer token the stub
issued, a JSON body that is a v1 `Message` addressed to one token (the fields
that matter for us are checked by name and type). Tokens and JWTs are checked with
`cryptography` directly, never with the google-auth code under test.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.parse
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from google.oauth2 import service_account

from tests.utils.fcm_messages import message_problems
from tests.utils.loopback import LoopbackServer

FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"
CLIENT_EMAIL = "push-sender@demo-timeline.iam.gserviceaccount.com"
KEY_ID = "stub-key-1"
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    release: threading.Event | None = None  # the send is recorded, the answer waits for it


def held(release: threading.Event) -> Answer:
    """A 200 that is only sent once `release` is set: a send in flight."""
    return Answer(200, {"name": "projects/held/messages/0:held"}, release=release)


def _error(status: int, name: str, message: str, *details: dict[str, Any]) -> dict[str, Any]:
    return {"error": {"code": status, "message": message, "status": name, "details": list(details)}}


def unregistered() -> Answer:
    body = _error(404, "NOT_FOUND", "Requested entity was not found.", fcm_code("UNREGISTERED"))
    return Answer(404, body)


def invalid_token() -> Answer:
    message = "The registration token is not a valid FCM registration token"
    return Answer(400, _error(400, "INVALID_ARGUMENT", message, fcm_code("INVALID_ARGUMENT")))


def bad_payload(field_name: str = "message") -> Answer:
    violation = {"field": field_name, "description": "Invalid JSON payload received."}
    detail = {"@type": BAD_REQUEST, "fieldViolations": [violation]}
    return Answer(400, _error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.", detail))


def busy(status: int = 503, retry_after: str | None = "1") -> Answer:
    name, code = (
        ("RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED")
        if status == 429
        else ("UNAVAILABLE", "UNAVAILABLE")
    )
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return Answer(status, _error(status, name, "Try again later.", fcm_code(code)), headers)


def fcm_code(code: str) -> dict[str, Any]:
    return {"@type": FCM_ERROR, "errorCode": code}


@cache
def _private_key() -> rsa.RSAPrivateKey:
    # One key for the whole run: generating RSA keys is the slow part of a test.
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


@dataclass(frozen=True)
class Sent:
    token: str
    message: dict[str, Any]  # the whole request body, {"message": {...}}


class FcmStub:
    def __init__(self, project: str) -> None:
        self.project = project
        self.sent: list[Sent] = []
        self.problems: list[str] = []
        self.token_requests = 0
        self._answers: dict[str, deque[Answer]] = {}
        self._issued: set[str] = set()
        self._revoked: set[str] = set()
        self._lock = threading.Lock()
        self._http = LoopbackServer(self._handler_class())

    @property
    def url(self) -> str:
        return self._http.base_url

    @property
    def token_uri(self) -> str:
        return f"{self.url}/token"

    def service_account_info(self) -> dict[str, str]:
        pem = _private_key().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return {
            "type": "service_account",
            "project_id": self.project,
            "private_key_id": KEY_ID,
            "private_key": pem.decode(),
            "client_email": CLIENT_EMAIL,
            "client_id": "1234567890",
            "token_uri": self.token_uri,
        }

    def credentials(self) -> service_account.Credentials:
        credentials: service_account.Credentials = (
            service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
                self.service_account_info(), scopes=[FCM_SCOPE]
            )
        )
        return credentials

    def write_service_account(self, path: Path) -> Path:
        path.write_text(json.dumps(self.service_account_info()))
        return path

    def answer(self, token: str, *answers: Answer) -> None:
        with self._lock:
            self._answers.setdefault(token, deque()).extend(answers)

    def revoke_access_tokens(self) -> None:
        """Access tokens issued so far are refused from now on (401), as after a key rotation."""
        with self._lock:
            self._revoked |= self._issued

    def sent_to(self, token: str) -> list[Sent]:
        with self._lock:
            return [s for s in self.sent if s.token == token]

    def start(self) -> None:
        self._http.start()

    def stop(self) -> None:
        self._http.stop()

    # Request handling, on the server's threads.

    def _problem(self, text: str) -> Answer:
        with self._lock:
            self.problems.append(text)
        return Answer(400, _error(400, "INVALID_ARGUMENT", text))

    def _route(self, method: str, path: str, headers: Any, body: bytes) -> Answer:
        if method != "POST":
            return self._problem(f"{method} {path}: only POST is used")
        if path == "/token":
            return self._token(headers, body)
        if path == f"/v1/projects/{self.project}/messages:send":
            return self._send(headers, body)
        return self._problem(f"POST {path}: not the token URI nor this project's messages:send")

    def _token(self, headers: Any, body: bytes) -> Answer:
        if headers.get("Content-Type", "").split(";")[0] != "application/x-www-form-urlencoded":
            return self._problem(f"token request Content-Type {headers.get('Content-Type')!r}")
        form = urllib.parse.parse_qs(body.decode())
        if form.get("grant_type") != [JWT_GRANT] or len(form.get("assertion", [])) != 1:
            return self._problem(f"token request is not a JWT-bearer grant: {sorted(form)}")
        problem = self._assertion_problem(form["assertion"][0])
        if problem:
            return self._problem(f"token request assertion: {problem}")
        with self._lock:
            self.token_requests += 1
            access = f"ya29.stub-{self.token_requests}"
            self._issued.add(access)
        return Answer(200, {"access_token": access, "expires_in": 3600, "token_type": "Bearer"})

    def _assertion_problem(self, assertion: str) -> str | None:
        try:
            header_b64, claims_b64, signature_b64 = assertion.split(".")
            header = json.loads(_b64decode(header_b64))
            claims = json.loads(_b64decode(claims_b64))
            _private_key().public_key().verify(
                _b64decode(signature_b64),
                f"{header_b64}.{claims_b64}".encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except (ValueError, InvalidSignature) as error:
            return f"not an RS256 JWT signed by the service account ({error!r})"
        now = time.time()
        checks = {
            "alg": header.get("alg") == "RS256",
            "kid": header.get("kid") == KEY_ID,
            "iss": claims.get("iss") == CLIENT_EMAIL,
            "aud": claims.get("aud") == GOOGLE_TOKEN_AUDIENCE,
            "scope": FCM_SCOPE in str(claims.get("scope", "")).split(),
            "iat": abs(float(claims.get("iat", 0)) - now) < 300,
            "exp": 0 < float(claims.get("exp", 0)) - float(claims.get("iat", 0)) <= 3600,
        }
        failed = [name for name, ok in checks.items() if not ok]
        return f"bad {failed} in {header} {claims}" if failed else None

    def _send(self, headers: Any, body: bytes) -> Answer:
        scheme, _, bearer = headers.get("Authorization", "").partition(" ")
        with self._lock:
            revoked = bearer in self._revoked
            known = bearer in self._issued
        if revoked:
            return Answer(401, _error(401, "UNAUTHENTICATED", "Request had invalid credentials."))
        if scheme != "Bearer" or not known:
            return self._problem(f"send without a bearer token the stub issued: {scheme} {bearer}")
        if headers.get("Content-Type", "").split(";")[0] != "application/json":
            return self._problem(f"send Content-Type {headers.get('Content-Type')!r}")
        try:
            request = json.loads(body)
        except ValueError:
            return self._problem("send body is not JSON")
        problems = message_problems(request)
        if problems:
            return self._problem(f"send body: {problems}")
        token = request["message"]["token"]
        with self._lock:
            self.sent.append(Sent(token, request))
            queued = self._answers.get(token)
            answer = queued.popleft() if queued else None
            number = len(self.sent)
        name = f"projects/{self.project}/messages/0:{number}"
        if answer is not None and answer.release is not None:
            answer.release.wait(timeout=30)
        return answer or Answer(200, {"name": name})

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                answer = stub._route(self.command, self.path, self.headers, body)
                data = json.dumps(answer.body).encode()
                self.send_response(answer.status)
                for name, value in {"Content-Type": "application/json", **answer.headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_POST = do_GET = do_PUT = _serve

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler


@contextmanager
def serving_fcm(project: str = "demo-timeline") -> Iterator[FcmStub]:
    stub = FcmStub(project)
    stub.start()
    try:
        yield stub
    finally:
        stub.stop()
