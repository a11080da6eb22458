"""Runs gcloud-tasks-emulator listening on 127.0.0.1 only.

Its own CLI binds `[::]:<port>` (every interface, see its `APIThread.run`) and takes
no host, so this script assembles the same parts (its QueueState, Processor and
gRPC servicer) around a gRPC server bound to loopback. It runs under the
emulator's own venv (.venv-tasks-emulator), never the project's: the emulator pins
a protobuf older than the project's.

With `--oidc-key`, it also does what Cloud Tasks does for HTTP targets and the
emulator does not: it signs an OIDC token (RS256, Google's issuer, the task's
service account and audience) with the given test key and sends it as
`Authorization: Bearer`, so that the app's guard can be tested end to end.

    .venv-tasks-emulator/bin/python tests/utils/tasks_emulator_main.py \\
        --port 9022 --target-port 8080 --queue projects/p/locations/l/queues/default
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import time
from collections.abc import Callable
from concurrent import futures
from pathlib import Path
from typing import Any

import gcloud_tasks_emulator.server as emulator_server  # type: ignore[import-not-found]
import grpc  # type: ignore[import-untyped]
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from gcloud_tasks_emulator.cloudtasks_pb2_grpc import (  # type: ignore[import-not-found]
    add_CloudTasksServicer_to_server,
)
from google.cloud.tasks_v2 import Queue

LOOPBACK = "127.0.0.1"
MAX_RETRIES = 5  # the emulator would otherwise retry a refused task every 0.1 s for ever


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def oidc_token(key: rsa.RSAPrivateKey, kid: str, email: str, audience: str) -> str:
    now = int(time.time())
    header = {"alg": "RS256", "kid": kid, "typ": "JWT"}
    claims = {
        "iss": "https://accounts.google.com",
        "aud": audience,
        "email": email,
        "email_verified": True,
        "sub": "emulated-service-account",
        "iat": now,
        "exp": now + 3600,
    }
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64(signature)}"


def signing_oidc_tokens(
    make_request: Callable[..., Any], key: rsa.RSAPrivateKey, kid: str
) -> Callable[..., Any]:
    def make(queue_name: str, task: Any, host: str, port: int) -> Any:
        request = task.http_request
        if request.url and request.oidc_token.service_account_email:
            audience = request.oidc_token.audience or request.url
            token = oidc_token(key, kid, request.oidc_token.service_account_email, audience)
            request.headers["Authorization"] = f"Bearer {token}"
        return make_request(queue_name, task, host, port)

    return make


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--target-port", type=int, required=True)
    parser.add_argument("--queue", action="append", default=[], help="full queue name")
    parser.add_argument("--oidc-key", type=Path, help="PEM private key to sign OIDC tokens")
    parser.add_argument("--oidc-kid", default="test-key", help="the key id tokens name")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)

    if args.oidc_key is not None:
        key = serialization.load_pem_private_key(args.oidc_key.read_bytes(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        # The emulator looks this function up at each delivery, so wrapping it here is
        # enough to add the header; nothing else of the emulator changes.
        emulator_server._make_task_request = signing_oidc_tokens(
            emulator_server._make_task_request, key, args.oidc_kid
        )
    # App Engine targets are sent to http://127.0.0.1:<target-port><relative_uri>.
    state = emulator_server.QueueState(LOOPBACK, args.target_port, MAX_RETRIES)
    for name in args.queue:
        state.create_queue(name.rsplit("/", 2)[0], Queue(name=name))
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    add_CloudTasksServicer_to_server(emulator_server.Greeter(state), server)
    if server.add_insecure_port(f"{LOOPBACK}:{args.port}") == 0:
        raise SystemExit(f"cannot listen on {LOOPBACK}:{args.port}")
    server.start()
    processor = emulator_server.Processor(state)
    processor.daemon = True
    processor.start()
    logging.info(
        "tasks emulator on %s:%d, delivering to port %d", LOOPBACK, args.port, args.target_port
    )
    # Runs until the test stops it with SIGTERM (the default action ends the process).
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
