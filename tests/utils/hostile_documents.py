"""The documents issue 10 sent as an attacker, and what each is refused as."""

from __future__ import annotations


def exponential_fragments(levels: int = 30) -> str:
    """1.2 KB that expands to 2^levels fields: each fragment spreads the next twice."""
    fragments = [f"fragment F{n} on Query {{ ...F{n + 1} ...F{n + 1} }}" for n in range(levels)]
    return " ".join(
        ["query { ...F0 }", *fragments, f"fragment F{levels} on Query {{ __typename }}"]
    )


def aliased_typenames(size: int = 1_500_000) -> str:
    aliases = (f" a{n}: __typename" for n in range(size // 13))
    return "{" + "".join(aliases) + " }"


def cost_bomb(aliases: int = 1_000) -> str:
    field = (
        "photos(first: 50) { edges { node { id"
        " comments(first: 50) { edges { node { id text } } } } } }"
    )
    return "{ " + " ".join(f"a{n}: {field}" for n in range(aliases)) + " }"


EXPONENTIAL_FRAGMENTS = exponential_fragments()

# Refused by the route's body limit for requests without a file, before the JSON is
# even decoded: a 413 whose error has no `rule` (the tests call it "body").
BODY_REFUSED = "PAYLOAD_TOO_LARGE"


def status_of(code: str) -> int:
    return 413 if code == BODY_REFUSED else 400


# name -> (document, code, rule): the first limit each one passes
HOSTILE_DOCUMENTS: dict[str, tuple[str, str, str]] = {
    "2^30 fragment expansions": (EXPONENTIAL_FRAGMENTS, "QUERY_TOO_COMPLEX", "cost"),
    "1.5 MB of aliased __typename": (aliased_typenames(), BODY_REFUSED, "body"),
    "50,000 @skip directives": (
        "{ __typename " + "@skip(if: false) " * 50_000 + "}",
        BODY_REFUSED,
        "body",
    ),
    "5,000 operations": (
        " ".join(f"query q{n} {{ __typename }}" for n in range(5_000)),
        "DOCUMENT_TOO_LARGE",
        "bytes",
    ),
    "1,000 aliases of photos and comments": (cost_bomb(), "DOCUMENT_TOO_LARGE", "bytes"),
}
