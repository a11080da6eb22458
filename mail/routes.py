"""The unsubscribe route behind every e-mail's `List-Unsubscribe` link.

    GET  /email/unsubscribe?token=...   a page with one button (changes nothing:
                                        mail scanners and link previews fetch GETs)
    POST /email/unsubscribe?token=...   turns that kind of e-mail off; the one-click
                                        POST of RFC 8058 (body List-Unsubscribe=One-Click)
                                        and the page's button both land here

The token names the user and the kind (mail/links.py); a forged or altered one is
a 400 and changes nothing. Turning off what is off already is fine, so a repeated
click answers as the first did. Like the media route, this is transport living
beside the layer it serves; app.py mounts it.
"""

from __future__ import annotations

import html
from dataclasses import replace
from datetime import datetime

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from clock import Clock, system_clock
from mail.links import UNSUBSCRIBE_PATH, Topic, UnsubscribeLinks
from store.email_models import (
    email_settings_key,
    preferences_from_entity,
    preferences_to_entity,
)
from store.port import Store, Transaction
from store.transactions import run_in_transaction

# The page posts to itself and loads nothing.
_PAGE_POLICY = "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
_NAMES = {"digest": "the daily digest", "new_follower": "new-follower e-mails"}


def unsubscribe_route(store: Store, links: UnsubscribeLinks, clock: Clock = system_clock) -> Route:
    async def unsubscribe(request: Request) -> Response:
        token = request.query_params.get("token", "")
        found = links.verify(token)
        if found is None:
            return _page("This unsubscribe link is not valid.", status=400)
        user_id, topic = found
        if request.method == "GET":
            button = (
                f'<form method="post" action="{UNSUBSCRIBE_PATH}?token={html.escape(token)}">'
                '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
                f"<button>Unsubscribe from {_NAMES[topic]}</button></form>"
            )
            return _page(f"Stop receiving {_NAMES[topic]}?", button)
        await turn_off(store, user_id, topic, clock())
        return _page(
            f"You will no longer receive {_NAMES[topic]}. "
            "You can turn it back on in the app's settings."
        )

    return Route(UNSUBSCRIBE_PATH, unsubscribe, methods=["GET", "POST"])


async def turn_off(store: Store, user_id: str, topic: Topic, now: datetime) -> None:
    key = email_settings_key(user_id)

    async def work(tx: Transaction) -> None:
        (found,) = await tx.get_many([key])
        current = preferences_from_entity(found)
        changed = (
            replace(current, digest=False)
            if topic == "digest"
            else replace(current, new_follower=False)
        )
        if found is None or changed != current:
            tx.put_many([preferences_to_entity(user_id, changed, now)])

    await run_in_transaction(store, work)


def _page(message: str, form: str = "", *, status: int = 200) -> HTMLResponse:
    body = (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Photo Timeline</title>'
        f"</head><body><p>{html.escape(message)}</p>{form}</body></html>\n"
    )
    headers = {"Content-Security-Policy": _PAGE_POLICY, "Cache-Control": "no-store"}
    return HTMLResponse(body, status_code=status, headers=headers)
