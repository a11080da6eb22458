"""The GraphQL schema clients see: one type per module, built here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from graphql import ASTValidationRule, DocumentNode, GraphQLError, NoSchemaIntrospectionCustomRule
from graphql.validation import MaxIntrospectionDepthRule, specified_rules
from strawberry.extensions import AddValidationRules
from strawberry.schema.config import StrawberryConfig

from schema import compiled, plain_fields
from schema.admin import AdminQuery
from schema.comment import Comment
from schema.cost_cache import CostCache
from schema.date_time import DATE_TIME
from schema.document_cache import DocumentCache
from schema.mutation import Mutation
from schema.notification import Notification
from schema.photo import Photo
from schema.query import Query
from schema.query_limits import QueryLimitsExtension
from schema.task_admin import AdminMutation
from schema.user import User
from settings import QueryLimits

# Mobile apps send the same few documents over and over (Apollo codegen), so parsing
# and validating each once is most of GraphQL's overhead gone. An app's documents
# come to tens of KiB of text; parsed, a document takes 50-70 times its text, so
# 1 MiB of text is at most about 70 MB kept (the count bound alone allowed 512
# documents of any size: 95 MB for one 1.5 MB document before the byte limit).
CACHED_DOCUMENTS = 512
CACHED_DOCUMENT_BYTES = 1024 * 1024


class TimelineSchema(strawberry.Schema):
    documents: DocumentCache[DocumentNode]  # by text and `validation_rules`
    costs: CostCache
    # What a request validates with: graphql-core's rules and AddValidationRules' own.
    validation_rules: tuple[type[ASTValidationRule], ...]

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Strawberry would log every error with its traceback, expected ones too;
        the GraphQL route logs the unexpected ones, once, under their error id."""


def build_schema(
    limits: QueryLimits | None = None, *, introspection: bool = True
) -> TimelineSchema:
    """The public schema: what the apps are generated from (schema.graphql)."""
    return _build(Query, Mutation, [User, Photo, Comment, Notification], limits, introspection)


def build_admin_schema(
    limits: QueryLimits | None = None, *, introspection: bool = True
) -> TimelineSchema:
    """The admin schema, served at /admin/graphql (schema/admin.py)."""
    return _build(AdminQuery, AdminMutation, [], limits, introspection)


def _build(
    query: type,
    mutation: type | None,
    types: list[type],
    limits: QueryLimits | None,
    introspection: bool,
) -> TimelineSchema:
    limits = limits or QueryLimits()
    # graphql-core recommends it, against introspection that nests `fields`
    # in `type` in `fields`... (the query limits leave introspection to it).
    rules: list[type[ASTValidationRule]] = [MaxIntrospectionDepthRule]
    if not introspection:
        # Production keeps the schema to itself: the apps are generated from it at build time.
        rules.append(NoSchemaIntrospectionCustomRule)
    cache: DocumentCache[DocumentNode] = DocumentCache(CACHED_DOCUMENTS, CACHED_DOCUMENT_BYTES)
    costs = CostCache(CACHED_DOCUMENTS, CACHED_DOCUMENT_BYTES)
    schema = TimelineSchema(
        query=query,
        mutation=mutation,
        types=types,
        config=StrawberryConfig(scalar_map={datetime: DATE_TIME}),
        extensions=[
            lambda: AddValidationRules(rules),
            lambda: QueryLimitsExtension(limits, cache, costs),
        ],
    )
    schema.documents = cache
    schema.costs = costs
    schema.validation_rules = (*specified_rules, *rules)
    plain_fields.enable(schema)
    compiled.enable(schema)
    return schema


__all__ = ["build_admin_schema", "build_schema"]
