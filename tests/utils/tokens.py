"""Builders for signed test tokens and a local stand-in for Google's certificate endpoint.

Everything here is independent of `auth/`: tokens are assembled and signed with
`cryptography` directly, so the tests do not check the verifiers against themselves.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from tests.utils.loopback import LoopbackServer


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def json_segment(value: Mapping[str, object]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode("utf-8"))


def compact(header: Mapping[str, object], claims: Mapping[str, object], signature: bytes) -> str:
    return f"{json_segment(header)}.{json_segment(claims)}.{b64url(signature)}"


@dataclass(frozen=True)
class RsaSigningKey:
    private_key: rsa.RSAPrivateKey
    certificate_pem: str

    def sign_rs256(
        self,
        claims: Mapping[str, object],
        kid: str | None,
        header: Mapping[str, object] | None = None,
    ) -> str:
        full_header: dict[str, object] = {"alg": "RS256", "typ": "JWT"}
        if kid is not None:
            full_header["kid"] = kid
        full_header.update(header or {})
        signing_input = f"{json_segment(full_header)}.{json_segment(claims)}"
        signature = self.private_key.sign(
            signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256()
        )
        return f"{signing_input}.{b64url(signature)}"


def make_rsa_signing_key(common_name: str = "photo-timeline-test") -> RsaSigningKey:
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(private_key, hashes.SHA256())
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")
    return RsaSigningKey(private_key, pem)


def sign_hs256(
    secret: bytes, claims: Mapping[str, object], header: Mapping[str, object] | None = None
) -> str:
    full_header = {"alg": "HS256", "typ": "JWT", **(header or {})}
    signing_input = f"{json_segment(full_header)}.{json_segment(claims)}"
    signature = hmac.new(secret, signing_input.encode("ascii"), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


class CertServer:
    """Serves `{kid: PEM}` over HTTP on 127.0.0.1 and counts the requests it answers."""

    def __init__(self, certificates: Mapping[str, str], cache_control: str) -> None:
        self.certificates = dict(certificates)
        self.cache_control = cache_control
        self.status = 200
        self.arrived = threading.Event()
        self.hold: threading.Event | None = None
        """When set, each request waits for this event (answering 503 after 5 s)."""
        self._requests = 0
        self._lock = threading.Lock()
        self._http = LoopbackServer(self._handler_class())

    @property
    def url(self) -> str:
        return f"{self._http.base_url}/certs"

    @property
    def requests(self) -> int:
        with self._lock:
            return self._requests

    def start(self) -> None:
        self._http.start()

    def stop(self) -> None:
        self._http.stop()

    def _answer(self) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            self._requests += 1
        self.arrived.set()
        if self.hold is not None and not self.hold.wait(timeout=5):
            return 503, {}, b""
        body = json.dumps(self.certificates).encode("utf-8")
        headers = {"Content-Type": "application/json", "Cache-Control": self.cache_control}
        return self.status, headers, body

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, headers, body = server._answer()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler


@contextmanager
def serving_certificates(
    certificates: Mapping[str, str], cache_control: str = "public, max-age=3600"
) -> Iterator[CertServer]:
    server = CertServer(certificates, cache_control)
    server.start()
    try:
        yield server
    finally:
        server.stop()


class FakeClock:
    """A settable clock for verifiers; `advance` moves it forward without sleeping."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta
