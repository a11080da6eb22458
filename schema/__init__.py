"""The GraphQL schema clients see: one type per module, built here."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import QueryDepthLimiter

from schema.errors import TranslateErrors
from schema.photo import Photo
from schema.query import Query
from schema.user import User


class TimelineSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Strawberry would log every error with its traceback, expected ones too;
        TranslateErrors logs the unexpected ones, once, under their error id."""


def build_schema(*, max_depth: int = 12) -> strawberry.Schema:
    return TimelineSchema(
        query=Query,
        types=[User, Photo],
        extensions=[TranslateErrors, lambda: QueryDepthLimiter(max_depth=max_depth)],
    )


__all__ = ["build_schema"]
