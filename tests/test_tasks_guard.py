"""The guard on /_internal/: only the queue and the scheduler get in; each forgery gets 403."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from settings import Settings, TaskSettings
from tasks.headers import EMBEDDED_SECRET, app_engine_task_headers
from tests.utils.clients import app_client
from tests.utils.tasks_app import TaskHarness, deliveries, effect_count, running_app
from tests.utils.tokens import (
    CertServer,
    RsaSigningKey,
    compact,
    make_rsa_signing_key,
    serving_certificates,
    sign_hs256,
)

AUDIENCE = "https://timeline.example.com"
ACCOUNT = "tasks@photo-timeline.iam.gserviceaccount.com"
KID = "google-key-1"
TASK_HEADERS = app_engine_task_headers("default", "t-1", 0, 0, time.time())
CLOUD_TASKS_HEADERS = {
    "X-CloudTasks-QueueName": "default",
    "X-CloudTasks-TaskName": "t-1",
    "X-CloudTasks-TaskRetryCount": "0",
}


@pytest.fixture
async def local(tmp_path: Path) -> AsyncIterator[TaskHarness]:
    async with running_app(tmp_path) as harness:
        yield harness


def base_settings(tmp_path: Path, **overrides: Any) -> Settings:
    return Settings(
        var_dir=tmp_path, sqlite_path=tmp_path / "timeline.db", secret_key=b"k" * 48, **overrides
    )


@pytest.fixture
async def on_app_engine(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    # Production, as App Engine runs it: Cloud Tasks (never contacted here) delivers.
    tasks = TaskSettings(
        backend="cloudtasks", cloud_location="us-central1", emulator_host="127.0.0.1:9"
    )
    async with app_client(
        base_settings(tmp_path, environment="production", app_engine=True, tasks=tasks)
    ) as http:
        yield http


@pytest.mark.parametrize(
    "path",
    [
        "/_internal/tasks/test_noop",
        "/_internal/tasks/no_such_handler",
        "/_internal/cron/prune_idempotency_records",
        "/_internal/cron/no_such_job",
        "/_internal/",
        "/_internal/anything/else",
    ],
)
async def test_a_call_without_credentials_is_refused_before_routing(
    local: TaskHarness, path: str
) -> None:
    for method in ("GET", "POST"):
        response = await local.http.request(method, path, headers=TASK_HEADERS, json={})
        assert response.status_code == 403, (method, path)


@pytest.mark.parametrize(
    "forged",
    [
        pytest.param(TASK_HEADERS, id="app-engine-queue-headers"),
        pytest.param({"X-Appengine-Cron": "true"}, id="app-engine-cron-header"),
        pytest.param(CLOUD_TASKS_HEADERS, id="cloud-tasks-headers"),
        pytest.param({**TASK_HEADERS, EMBEDDED_SECRET: "x" * 43}, id="wrong-secret"),
        pytest.param({**TASK_HEADERS, EMBEDDED_SECRET: ""}, id="empty-secret"),
        pytest.param({**TASK_HEADERS, "Authorization": "Bearer abc.def.ghi"}, id="bearer-junk"),
    ],
)
async def test_forged_headers_are_refused_off_app_engine(
    local: TaskHarness, forged: dict[str, str]
) -> None:
    for path in ("/_internal/tasks/test_noop", "/_internal/cron/prune_idempotency_records"):
        response = await local.http.post(path, headers=forged, json={})
        assert response.status_code == 403, path


async def test_the_dispatcher_secret_lets_the_embedded_queue_in(local: TaskHarness) -> None:
    headers = {**TASK_HEADERS, **local.secret_headers}
    response = await local.http.post("/_internal/tasks/test_noop", headers=headers, json={})
    assert response.status_code == 200
    unknown = await local.http.post("/_internal/tasks/no_such", headers=headers, json={})
    assert unknown.status_code == 404, "past the guard, an unknown handler is plainly unknown"
    wrong_method = await local.http.get("/_internal/tasks/test_noop", headers=headers)
    assert wrong_method.status_code == 405


async def test_a_delivery_must_say_which_task_it_is(local: TaskHarness) -> None:
    response = await local.http.post(
        "/_internal/tasks/test_noop", headers=local.secret_headers, json={}
    )
    assert response.status_code == 400
    not_an_object = await local.http.post(
        "/_internal/tasks/test_noop", headers={**TASK_HEADERS, **local.secret_headers}, json=[1]
    )
    assert not_an_object.status_code == 400


async def test_on_app_engine_its_own_headers_are_trusted(on_app_engine: httpx.AsyncClient) -> None:
    task = await on_app_engine.post("/_internal/tasks/test_noop", headers=TASK_HEADERS, json={})
    assert task.status_code == 200
    cron = await on_app_engine.get(
        "/_internal/cron/prune_idempotency_records", headers={"X-Appengine-Cron": "true"}
    )
    assert cron.status_code == 200


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        pytest.param("/_internal/tasks/test_noop", {}, id="task-without-headers"),
        pytest.param(
            "/_internal/tasks/test_noop", {"X-Appengine-Cron": "true"}, id="cron-header-on-task"
        ),
        pytest.param(
            "/_internal/cron/prune_idempotency_records", TASK_HEADERS, id="queue-header-on-cron"
        ),
        pytest.param(
            "/_internal/cron/prune_idempotency_records",
            {"X-Appengine-Cron": "yes"},
            id="cron-header-not-true",
        ),
        pytest.param("/_internal/tasks/test_noop", CLOUD_TASKS_HEADERS, id="cloud-tasks-headers"),
        pytest.param(
            "/_internal/tasks/test_noop",
            {**TASK_HEADERS, EMBEDDED_SECRET: "y" * 43},
            id="wrong-secret-beside-queue-header",
        ),
    ],
)
async def test_on_app_engine_the_wrong_headers_are_refused(
    on_app_engine: httpx.AsyncClient, path: str, headers: dict[str, str]
) -> None:
    response = await on_app_engine.post(path, headers=headers, json={})
    assert response.status_code == 403


# Cloud Tasks HTTP targets: an OIDC token signed by Google for our audience and account.


@pytest.fixture(scope="module")
def google_key() -> RsaSigningKey:
    return make_rsa_signing_key("google-oidc")


@pytest.fixture(scope="module")
def foreign_key() -> RsaSigningKey:
    return make_rsa_signing_key("attacker")


@pytest.fixture
def certs(google_key: RsaSigningKey) -> Iterator[CertServer]:
    with serving_certificates({KID: google_key.certificate_pem}) as server:
        yield server


@pytest.fixture
async def with_oidc(tmp_path: Path, certs: CertServer) -> AsyncIterator[httpx.AsyncClient]:
    tasks = TaskSettings(service_account=ACCOUNT, audience=AUDIENCE, oidc_certs_url=certs.url)
    async with app_client(base_settings(tmp_path, tasks=tasks)) as http:
        yield http


def claims(**overrides: object) -> dict[str, object]:
    now = int(time.time())
    base: dict[str, object] = {
        "iss": "https://accounts.google.com",
        "aud": AUDIENCE,
        "azp": "1234567890",
        "email": ACCOUNT,
        "email_verified": True,
        "sub": "1234567890",
        "iat": now - 5,
        "exp": now + 3600,
    }
    base.update(overrides)
    return {name: value for name, value in base.items() if value is not None}


def bearer(token: str) -> dict[str, str]:
    return {**CLOUD_TASKS_HEADERS, "Authorization": f"Bearer {token}"}


async def test_a_cloud_tasks_oidc_token_lets_the_queue_in(
    with_oidc: httpx.AsyncClient, google_key: RsaSigningKey
) -> None:
    token = google_key.sign_rs256(claims(), KID)
    response = await with_oidc.post("/_internal/tasks/test_noop", headers=bearer(token), json={})
    assert response.status_code == 200
    issuer_without_scheme = google_key.sign_rs256(claims(iss="accounts.google.com"), KID)
    response = await with_oidc.post(
        "/_internal/tasks/test_noop", headers=bearer(issuer_without_scheme), json={}
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("overrides", "signer", "kid"),
    [
        pytest.param({"aud": "https://elsewhere.example.com"}, "google", KID, id="wrong-audience"),
        pytest.param({"email": "someone@example.com"}, "google", KID, id="wrong-account"),
        pytest.param({"email_verified": False}, "google", KID, id="unverified-email"),
        pytest.param({"email": None}, "google", KID, id="no-email"),
        pytest.param({"iss": "https://evil.example.com"}, "google", KID, id="wrong-issuer"),
        pytest.param({"exp": int(time.time()) - 120}, "google", KID, id="expired"),
        pytest.param({}, "foreign", KID, id="signed-by-another-key"),
        pytest.param({}, "google", "unknown-kid", id="unknown-key-id"),
        pytest.param({}, "hs256", KID, id="hmac-signed"),
        pytest.param({"iat": int(time.time()) + 86400}, "google", KID, id="issued-in-the-future"),
        pytest.param({"nbf": int(time.time()) + 86400}, "google", KID, id="not-before-later"),
        pytest.param({"exp": None}, "google", KID, id="no-expiry"),
        pytest.param({}, "unsigned", KID, id="alg-none"),
        pytest.param({}, "crit", KID, id="critical-extension"),
    ],
)
async def test_a_bad_oidc_token_is_refused(
    with_oidc: httpx.AsyncClient,
    google_key: RsaSigningKey,
    foreign_key: RsaSigningKey,
    overrides: dict[str, object],
    signer: str,
    kid: str,
) -> None:
    body = claims(**overrides)
    if signer == "hs256":
        token = sign_hs256(b"secret", body, {"kid": kid})
    elif signer == "unsigned":
        token = compact({"alg": "none", "kid": kid}, body, b"")
    elif signer == "crit":
        token = google_key.sign_rs256(body, kid, header={"crit": ["exp"], "exp": 1})
    else:
        token = (google_key if signer == "google" else foreign_key).sign_rs256(body, kid)
    response = await with_oidc.post("/_internal/tasks/test_noop", headers=bearer(token), json={})
    assert response.status_code == 403


async def test_unreachable_certificates_ask_the_queue_to_retry(
    with_oidc: httpx.AsyncClient, google_key: RsaSigningKey, certs: CertServer
) -> None:
    certs.status = 500
    token = google_key.sign_rs256(claims(), KID)
    response = await with_oidc.post("/_internal/tasks/test_noop", headers=bearer(token), json={})
    assert response.status_code == 503


# X-CloudTasks-QueueName: Cloud Tasks sends the queue's short id, its emulator the
# full resource name; both are the same queue to the handlers.

FULL_QUEUE_NAME = "projects/photo-timeline/locations/us-central1/queues/default"


@pytest.fixture
async def with_oidc_harness(tmp_path: Path, certs: CertServer) -> AsyncIterator[TaskHarness]:
    async with running_app(
        tmp_path, service_account=ACCOUNT, audience=AUDIENCE, oidc_certs_url=certs.url
    ) as harness:
        yield harness


@pytest.mark.parametrize("prefix", ["X-CloudTasks-", "X-AppEngine-"])
async def test_the_short_and_the_full_queue_name_are_one_queue(
    with_oidc_harness: TaskHarness, google_key: RsaSigningKey, prefix: str
) -> None:
    harness = with_oidc_harness
    token = google_key.sign_rs256(claims(), KID)
    for queue in (FULL_QUEUE_NAME, "default"):
        headers = {
            "Authorization": f"Bearer {token}",
            prefix + "QueueName": queue,
            prefix + "TaskName": "t-1",
        }
        response = await harness.http.post(
            "/_internal/tasks/test_effect", headers=headers, json={"key": "both-names"}
        )
        assert response.status_code == 200, (queue, response.text)
    # One task (queue and name) delivered twice: its work is done once.
    assert len(await deliveries(harness.store, "both-names")) == 2
    assert await effect_count(harness.store, "both-names") == 1
    assert [run.queue for run in await harness.runs()] == ["default", "default"]


@pytest.mark.parametrize(
    "queue", ["projects/p/locations/l/queues/", "queues/default", "default/../push", "a b"]
)
async def test_a_queue_name_of_neither_form_is_a_bad_delivery(
    with_oidc_harness: TaskHarness, google_key: RsaSigningKey, queue: str
) -> None:
    token = google_key.sign_rs256(claims(), KID)
    headers = {**bearer(token), "X-CloudTasks-QueueName": queue}
    response = await with_oidc_harness.http.post(
        "/_internal/tasks/test_noop", headers=headers, json={}
    )
    assert response.status_code == 400
