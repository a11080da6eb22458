"""The kinds of the settings that name places on the network: the origins
browsers compare, the address a server binds to and the proxies it believes."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from settings.variables import Invalid, Kind


def origin(*, https_only: bool = False) -> Kind[str]:
    """`scheme://host[:port]` and nothing more, as browsers compare origins."""
    schemes = ("https",) if https_only else ("http", "https")
    return Kind("origin: https://host[:port]", lambda value: _origin(value, schemes))


def origins(*, https_only: bool = False) -> Kind[tuple[str, ...]]:
    """Comma-separated origins."""
    schemes = ("https",) if https_only else ("http", "https")

    def parse(value: str) -> tuple[str, ...]:
        return tuple(_origin(part.strip(), schemes) for part in value.split(",") if part.strip())

    return Kind("origins, comma-separated: https://host[:port]", parse)


def _origin(value: str, schemes: tuple[str, ...]) -> str:
    parts = urlsplit(value)
    if (
        parts.scheme not in schemes
        or not parts.hostname
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or parts.username
    ):
        expected = " or ".join(f"{scheme}://host[:port]" for scheme in schemes)
        raise Invalid(f"origins like {expected}")
    return f"{parts.scheme}://{parts.netloc}"


# RFC 1123 host names: dot-separated labels of letters, digits and inner hyphens.
_HOST_NAME = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?")


def listen_host() -> Kind[str]:
    """What a server binds to: an IP address or a host name, without scheme or port."""

    def parse(value: str) -> str:
        try:
            ipaddress.ip_address(value)
        except ValueError:
            if len(value) > 253 or not _HOST_NAME.fullmatch(value):
                raise Invalid("an IP address or a host name, without scheme or port") from None
        return value

    return Kind("IP address or host name", parse)


def proxies() -> Kind[tuple[str, ...]]:
    """`*`, or comma-separated IP addresses and networks: what uvicorn's
    --forwarded-allow-ips matches a peer against. uvicorn keeps any other entry as a
    literal no TCP peer ever equals, so a mistyped address would quietly believe no
    proxy; here it stops the start."""

    def parse(value: str) -> tuple[str, ...]:
        parts = tuple(part.strip() for part in value.split(",") if part.strip())
        if parts == ("*",):
            return parts
        for part in parts:
            try:
                if "/" in part:  # strict, as uvicorn reads it: host bits make a literal
                    ipaddress.ip_network(part)
                else:
                    ipaddress.ip_address(part)
            except ValueError:
                raise Invalid(
                    "'*' or comma-separated IP addresses and networks (10.0.0.0/8)"
                ) from None
        if not parts:
            raise Invalid("'*' or at least one IP address or network")
        return parts

    return Kind("'*' or comma-separated IP addresses and networks", parse)
