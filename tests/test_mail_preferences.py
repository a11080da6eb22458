"""E-mail preferences, end to end: addresses only from verified sign-ins, the
one-click unsubscribe link, new-follower e-mails once per follower, and user input
escaped in the HTML."""

from __future__ import annotations

from datetime import UTC, datetime
from html.parser import HTMLParser
from urllib.parse import urlsplit

import httpx
import pytest

from settings import Settings
from store import models
from store.port import Store
from tests.test_mail_digest import run_digest_cron
from tests.test_social import FOLLOW, LIKE, UNFOLLOW, mutate, pid, uid
from tests.utils.accounts import UPDATE_PROFILE, call, create_profile
from tests.utils.draining import drain
from tests.utils.firebase_sign_in import firebase_token
from tests.utils.mail import (
    outbox_mails,
    preferences,
    sign_up,
    update_preferences,
)
from tests.utils.tokens import RsaSigningKey

ALLOWED_TAGS = {"html", "head", "meta", "title", "body", "h1", "ul", "li", "br", "q", "p", "a"}


def user(name: str) -> models.User:
    return models.User(f"id-{name}", name, name, datetime.now(UTC))


def unsubscribe_path(list_unsubscribe: str) -> str:
    url = urlsplit(list_unsubscribe.strip("<>"))
    assert url.scheme == "http"  # TIMELINE_PUBLIC_ORIGIN's; https in production
    assert url.netloc == "127.0.0.1:8080"
    return f"{url.path}?{url.query}"


async def test_the_unsubscribe_link_turns_off_that_e_mail_and_a_forged_one_is_refused(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    alice = await sign_up(client, settings, "alice", "alice@example.com")
    bob = await sign_up(client, settings, "bob", None)
    await mutate(client, FOLLOW, bob, userId=uid(user("alice")))
    await drain(client)
    await run_digest_cron(client)
    await drain(client)
    [digest] = await outbox_mails(client)
    assert digest.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    path = unsubscribe_path(digest.message["List-Unsubscribe"])
    assert path in digest.text
    assert path.replace("&", "&amp;") in digest.html

    # A link scanner's GET changes nothing; it shows a button.
    page = await client.get(path)
    assert page.status_code == 200
    assert '<form method="post"' in page.text
    assert (await preferences(client, alice))["digest"] is True

    # Forged: another user's id under alice's signature, a made-up signature, garbage.
    token = path.split("token=", 1)[1]
    body, mac = token.split(".")
    other_body = body[:-2] + ("AA" if body[-2:] != "AA" else "AB")
    for forged in (f"{other_body}.{mac}", f"{body}.{mac[:-2]}xx", "nonsense", ""):
        refused = await client.post(
            f"/email/unsubscribe?token={forged}", content=b"List-Unsubscribe=One-Click"
        )
        assert refused.status_code == 400, forged
    assert (await preferences(client, alice))["digest"] is True

    one_click = await client.post(
        path,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert one_click.status_code == 200
    assert "no longer receive the daily digest" in one_click.text
    assert await preferences(client, alice) == {
        "address": "alice@example.com",
        "digest": False,
        "newFollower": False,
    }
    again = await client.post(path, content=b"List-Unsubscribe=One-Click")
    assert again.status_code == 200  # a second click answers as the first


@pytest.mark.slow  # waits seconds for batched background tasks
async def test_new_follower_e_mails_are_opt_in_and_sent_once_per_follower(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    alice = await sign_up(client, settings, "alice", "alice@example.com")
    await sign_up(client, settings, "erin", "erin@example.com")  # never opts in
    bob = await sign_up(client, settings, "bob", None)
    carol = await sign_up(client, settings, "carol", None)
    payload = await update_preferences(client, alice, newFollower=True)
    assert payload["preferences"]["newFollower"] is True
    await mutate(client, FOLLOW, bob, userId=uid(user("alice")))
    await mutate(client, FOLLOW, bob, userId=uid(user("erin")))
    await drain(client)
    # Follow, unfollow, follow again: announced once.
    await mutate(client, UNFOLLOW, bob, userId=uid(user("alice")))
    await drain(client)
    await mutate(client, FOLLOW, bob, userId=uid(user("alice")))
    await mutate(client, FOLLOW, carol, userId=uid(user("alice")))
    await drain(client)
    mails = await outbox_mails(client)
    assert [(m.to, m.subject) for m in mails] == [
        ("alice@example.com", "bob started following you"),
        ("alice@example.com", "carol started following you"),
    ]
    path = unsubscribe_path(mails[0].message["List-Unsubscribe"])
    assert (await client.post(path)).status_code == 200
    assert (await preferences(client, alice))["newFollower"] is False
    assert (await preferences(client, alice))["digest"] is True  # the other kind stays


async def test_user_input_is_escaped_in_the_html(
    client: httpx.AsyncClient, settings: Settings, store: Store
) -> None:
    alice = await sign_up(client, settings, "alice", "alice@example.com")
    await update_preferences(client, alice, newFollower=True)
    mallory = await sign_up(client, settings, "mallory", None)
    hostile = '<script>alert("x")</script> & <img src=x>'
    renamed = await call(client, UPDATE_PROFILE, {"input": {"displayName": hostile}}, mallory)
    assert renamed["data"]["updateProfile"]["errors"] == [], renamed
    caption = '"><a href="https://evil.example">win</a>\nBcc: eve@example.com'
    photo = models.Photo("id-alice", "p1", caption, datetime.now(UTC))
    await store.put_many([models.photo_to_entity(photo)])
    await mutate(client, FOLLOW, mallory, userId=uid(user("alice")))
    await mutate(client, LIKE, mallory, photoId=pid(photo))
    await drain(client)
    await run_digest_cron(client)
    await drain(client)
    follower_mail, digest = await outbox_mails(client)
    assert digest.subject == "You have 2 unread notifications"
    for mail in (follower_mail, digest):
        tags = _tags(mail.html)
        assert tags <= ALLOWED_TAGS, tags
        assert [href for href in _hrefs(mail.html) if "evil" in href] == []
        assert "Bcc" not in mail.message  # no header came from a caption
    assert (
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img src=x&gt;"
        in follower_mail.html
    )
    assert "&quot;&gt;&lt;a href=&quot;https://evil.example&quot;&gt;win&lt;/a&gt;" in digest.html
    assert hostile in follower_mail.text  # plain text is shown as text


def _tags(markup: str) -> set[str]:
    collected = _Collector()
    collected.feed(markup)
    return collected.tags


def _hrefs(markup: str) -> list[str]:
    collected = _Collector()
    collected.feed(markup)
    return collected.hrefs


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.hrefs += [value or "" for name, value in attrs if name == "href"]


# Firebase sign-ins: the address is the token's only when email_verified is true.


async def test_no_e_mail_to_an_address_the_sign_in_does_not_vouch_for(
    firebase_client: httpx.AsyncClient, firebase_key: RsaSigningKey
) -> None:
    def bearer(uid: str, **claims: object) -> dict[str, str]:
        return {"Authorization": f"Bearer {firebase_token(firebase_key, sub=uid, **claims)}"}

    unverified = bearer("id-uma", email="uma@example.com", email_verified=False)
    verified = bearer("id-vic", email="vic@example.com", email_verified=True)
    follower = bearer("id-wes")
    for headers, name in ((unverified, "uma"), (verified, "vic"), (follower, "wes")):
        made = await create_profile(firebase_client, headers, username=name, displayName=name)
        assert made["errors"] == []
    assert (await preferences(firebase_client, unverified))["address"] is None
    assert (await preferences(firebase_client, verified))["address"] == "vic@example.com"
    refused = await update_preferences(firebase_client, unverified, digest=True, newFollower=True)
    assert refused["preferences"] is None
    assert [e["code"] for e in refused["errors"]] == ["EMAIL_NOT_VERIFIED"]

    for name in ("uma", "vic"):
        await mutate(firebase_client, FOLLOW, follower, userId=uid(user(name)))
    await drain(firebase_client)
    await run_digest_cron(firebase_client)
    await drain(firebase_client)
    assert [m.to for m in await outbox_mails(firebase_client)] == ["vic@example.com"]

    # Vic's address stops being verified (changed at the provider): it is dropped.
    changed = bearer("id-vic", email="vic@new.example", email_verified=False)
    kept = await update_preferences(firebase_client, changed, digest=False)
    assert kept["preferences"] == {"address": None, "digest": False, "newFollower": False}
