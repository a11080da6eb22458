"""GraphiQL in a real headless Chromium with no internet: the page loads from the
server alone, runs a query the user set, and shows the answer.

Chromium is Debian's (`make system-deps` installs it), driven by Playwright for
Python through `executable_path`; Playwright's own browser downloads are never
used. Every request the page makes is checked: loopback goes through, anything else
is recorded and refused, and the test fails if there was any. Chromium's host
resolver is also told to resolve nothing but 127.0.0.1, so a request that slipped
past the check could not reach the internet either.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.e2e.conftest import LocalServer
from tests.utils.processes import missing_tool

pytestmark = pytest.mark.slow

QUERY = '{ user(username: "bob") { displayName photos(first: 1) { edges { node { caption } } } } }'
# Bob's newest demo photo (demo.py): only the server's answer can hold it.
ANSWER = "Bob's photo #5"
LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}
CHROMIUM_FLAGS = [
    "--no-sandbox",  # tests run as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        missing_tool("Chromium is not installed (make system-deps installs Debian's)")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=chromium, headless=True, args=CHROMIUM_FLAGS
        )
        yield instance
        instance.close()


def offline_page(browser: Browser, refused: list[str]) -> Page:
    context = browser.new_context(service_workers="block")

    def only_loopback(route: Route) -> None:
        if urlsplit(route.request.url).hostname in LOOPBACK:
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort("internetdisconnected")

    context.route("**/*", only_loopback)
    page = context.new_page()
    page.on("websocket", lambda socket: refused.append(socket.url))
    return page


def test_graphiql_runs_a_query_with_no_internet(
    browser: Browser, local_server: LocalServer
) -> None:
    refused: list[str] = []
    page = offline_page(browser, refused)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{local_server.url}/graphql", wait_until="load")
    # GraphiQL replaced "Loading…" with its editors, the explorer's button among them.
    editor = page.locator(".graphiql-query-editor .CodeMirror")
    try:
        editor.wait_for(state="visible", timeout=20_000)
    except PlaywrightTimeout:
        pytest.fail(f"GraphiQL did not start; requests off this machine: {refused}")
    page.locator('button[aria-label="Show GraphiQL Explorer"]').wait_for(timeout=5_000)

    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    # CodeMirror closes brackets as they are typed; set the text as pasting would.
    page.keyboard.insert_text(QUERY)
    assert editor.evaluate("node => node.CodeMirror.getValue()") == QUERY
    page.locator(".graphiql-execute-button").click()

    result = page.locator(".graphiql-response .CodeMirror")
    result.filter(has_text=ANSWER).wait_for(timeout=20_000)
    assert '"displayName": "Bob Ross"' in result.evaluate("node => node.CodeMirror.getValue()")
    assert refused == []
    assert errors == []
    page.context.close()
