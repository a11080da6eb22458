"""The GraphQL schema clients see: one type per module, built here."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import ASTValidationRule, GraphQLError, NoSchemaIntrospectionCustomRule
from strawberry.extensions import AddValidationRules, ParserCache, ValidationCache
from strawberry.extensions.query_depth_limiter import create_validator

from schema.comment import Comment
from schema.mutation import Mutation
from schema.notification import Notification
from schema.photo import Photo
from schema.query import Query
from schema.user import User

PARSED_DOCUMENTS = 512


class TimelineSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Strawberry would log every error with its traceback, expected ones too;
        the GraphQL route logs the unexpected ones, once, under their error id."""


def build_schema(*, max_depth: int = 12, introspection: bool = True) -> strawberry.Schema:
    # One depth rule for the schema's life: the validation cache is keyed by the
    # rule objects, so a fresh rule per request would never hit.
    depth_rule = create_validator(max_depth, should_ignore=None)
    # Production keeps the schema to itself: the apps are generated from it at build time.
    rules: list[type[ASTValidationRule]] = [depth_rule]
    if not introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    return TimelineSchema(
        query=Query,
        mutation=Mutation,
        types=[User, Photo, Comment, Notification],
        extensions=[
            lambda: AddValidationRules(rules),
            # Mobile apps send the same few documents over and over (Apollo codegen),
            # so parsing and validating each once is most of GraphQL's overhead gone.
            lambda: ParserCache(maxsize=PARSED_DOCUMENTS),
            lambda: ValidationCache(maxsize=PARSED_DOCUMENTS),
        ],
    )


__all__ = ["build_schema"]
