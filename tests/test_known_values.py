"""A resolver marked `known_in(holder, attribute)` (schema/known_values.py): a
compiled plan reads the held answer without calling it, calls it only where the
object holds none, and answers as graphql-core does either way."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import strawberry

from schema import compiled
from schema.known_values import known_in


@dataclass(frozen=True)
class Held:
    count: int


CALLED: list[str] = []


@strawberry.type
class Item:
    name: str
    held: strawberry.Private[Held | None] = None

    @strawberry.field
    @known_in("held", "count")
    def count(self) -> int:
        CALLED.append(self.name)
        return self.held.count if self.held is not None else len(self.name)

    @strawberry.field
    @known_in("held", "count")
    def scaled(self, by: int = 1) -> int:  # arguments: never read without the call
        CALLED.append(f"{self.name}*{by}")
        return (self.held.count if self.held is not None else len(self.name)) * by


ITEMS = [Item(name="held", held=Held(7)), Item(name="loose"), Item(name="zero", held=Held(0))]


def items_schema() -> strawberry.Schema:
    @strawberry.type
    class Query:
        @strawberry.field
        def items(self) -> list[Item]:
            return ITEMS

    return strawberry.Schema(Query)


def answer(result: Any) -> dict[str, Any]:
    return {"data": result.data, "errors": [error.formatted for error in result.errors or []]}


async def test_a_plan_reads_the_held_answer_and_calls_the_resolver_only_without_one() -> None:
    planned, generic = items_schema(), items_schema()
    compiled.enable(planned)
    query = "{ items { name count scaled(by: 2) } }"
    CALLED.clear()
    before = compiled.stats.planned
    mine = answer(await planned.execute(query))
    assert compiled.stats.planned == before + 1  # it ran from a plan
    assert CALLED == ["held*2", "loose", "loose*2", "zero*2"]
    CALLED.clear()
    assert mine == answer(await generic.execute(query))
    assert CALLED == ["held", "held*2", "loose", "loose*2", "zero", "zero*2"]  # every one
    assert mine["data"]["items"] == [
        {"name": "held", "count": 7, "scaled": 14},
        {"name": "loose", "count": 5, "scaled": 10},
        {"name": "zero", "count": 0, "scaled": 0},
    ]
