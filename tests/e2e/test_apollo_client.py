"""Apollo Client (web) against the real server: the Node tests in tests/e2e/apollo/,
run with node's own test runner (`node --test`) on the server this session
started, with the demo data of `make run`.

They walk the home feed with relayStylePagination and fetchMore, send queries as
automatic persisted queries over GET, upload a photo with the multipart request
spec and refetch it by `node(id:)`. This test hands them the URL, tokens and the
oracle (the demo feed's ids, from demo.py), and fails when any of them fails or
when fewer ran than the files hold.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from demo import DEMO_FOLLOWS, demo_entities
from resolvers.node_ids import to_global_id
from store import models
from tests.e2e.conftest import ROOT, LocalServer
from tests.utils import images
from tests.utils.processes import missing_tool

pytestmark = pytest.mark.slow

TESTS = sorted((Path(__file__).parent / "apollo").glob("*.test.mjs"))
NODE_SECONDS = 300


def demo_feed_of(user_id: str) -> list[str]:
    """The demo photos in `user_id`'s home feed: theirs and their followees'."""
    authors = {user_id} | {followee for follower, followee in DEMO_FOLLOWS if follower == user_id}
    photos = [models.photo_from_entity(e) for e in demo_entities() if e.key.kind == models.PHOTO]
    return [to_global_id("Photo", photo.key) for photo in photos if photo.owner_id in authors]


def test_apollo_client_against_the_real_server(local_server: LocalServer, tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        missing_tool("Node.js is not installed (make system-deps installs it)")
    if not (ROOT / "node_modules" / "@apollo" / "client").is_dir():
        missing_tool("node_modules is not installed: run `npm ci`")
    expected_feed = tmp_path / "expected-feed.json"
    expected_feed.write_text(json.dumps(demo_feed_of("demo-alice")))
    upload = tmp_path / "upload.png"
    upload.write_bytes(images.png())
    env = {
        **os.environ,
        "GRAPHQL_URL": f"{local_server.url}/graphql",
        "VIEWER_TOKEN": local_server.token("demo-alice"),
        "UPLOADER_TOKEN": local_server.token("e2e-uploader"),
        "EXPECTED_FEED": str(expected_feed),
        "UPLOAD_IMAGE": str(upload),
    }
    run = subprocess.run(
        [node, "--test", "--test-reporter=tap", *map(str, TESTS)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=NODE_SECONDS,
        check=False,
    )
    print(run.stdout, run.stderr, sep="\n")  # pytest shows it when the test fails
    assert run.returncode == 0, f"node --test failed; the server's log: {local_server.log_path}"
    assert _count(run.stdout, "fail") == 0
    assert _count(run.stdout, "pass") == sum(
        len(re.findall(r"^test\(", path.read_text(), re.MULTILINE)) for path in TESTS
    )


def _count(tap: str, outcome: str) -> int:
    found = re.search(rf"^# {outcome} (\d+)$", tap, re.MULTILINE)
    assert found is not None, f"no '# {outcome}' line in node's output"
    return int(found.group(1))
