"""Mailgun's HTTP API: one request per message.

    POST {base}/v3/{domain}/messages
    Authorization: Basic api:<API key>
    from, to, subject, text, html, h:<Header> (form fields)

https://documentation.mailgun.com/docs/mailgun/api-reference/send/mailgun/messages

How answers map to `MailResult`:

    200                                     sent ("Queued. Thank you.")
    429, 5xx, no answer                     retry
    400 (a bad address or message), 401,    rejected
    403, 404 (our key or domain)
"""

from __future__ import annotations

import httpx

from mail.port import MailMessage, MailResult


class MailgunMail:
    def __init__(
        self,
        domain: str,
        api_key: str,
        *,
        sender: str,
        base_url: str = "https://api.mailgun.net",
        timeout_seconds: float = 10.0,
    ) -> None:
        if not domain or not api_key:
            raise ValueError("Mailgun needs the sending domain and an API key")
        self.url = f"{base_url.rstrip('/')}/v3/{domain}/messages"
        self._sender = sender
        self._http = httpx.AsyncClient(auth=("api", api_key), timeout=timeout_seconds)

    async def send(self, message: MailMessage) -> MailResult:
        form = {
            "from": self._sender,
            "to": message.to,
            "subject": message.subject,
            "text": message.text,
            "html": message.html,
            **{f"h:{name}": value for name, value in message.headers.items()},
        }
        try:
            response = await self._http.post(self.url, data=form)
        except httpx.HTTPError as error:
            return MailResult("retry", detail=f"no answer from Mailgun: {error!r}")
        detail = f"HTTP {response.status_code}: {response.text[:200]}"
        if response.status_code == 200:
            return MailResult("sent", detail=_message_id(response))
        if response.status_code == 429 or response.status_code >= 500:
            return MailResult("retry", detail=detail)
        return MailResult("rejected", detail=detail)

    async def close(self) -> None:
        await self._http.aclose()


def _message_id(response: httpx.Response) -> str:
    try:
        return str(response.json().get("id") or "")
    except ValueError:
        return ""
