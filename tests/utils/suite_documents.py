"""The query documents the test suite and the benchmarks send, found by reading
their string constants, and a few sets of values for each one's variables: what the
differential tests (tests/test_compiled_plans.py, tests/test_graphql_direct.py) run
both ways."""

from __future__ import annotations

import ast
import itertools
from pathlib import Path
from typing import Any

from graphql import GraphQLSchema, OperationDefinitionNode, OperationType, parse, validate
from graphql.language import print_ast

from tests.utils import app_documents

ROOT = Path(__file__).resolve().parent.parent.parent


def suite_queries(schema: GraphQLSchema) -> list[str]:
    """String constants in tests/ and benchmarks/ (and the app's documents) that are
    valid query documents of the public schema."""
    texts: set[str] = {value for value in vars(app_documents).values() if isinstance(value, str)}
    for path in [*ROOT.glob("tests/**/*.py"), *ROOT.glob("benchmarks/*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                texts.add(node.value)
    found = []
    for text in sorted(texts):
        if "{" not in text:
            continue
        try:
            document = parse(text)
        except Exception:
            continue
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if len(operations) != 1 or operations[0].operation is not OperationType.QUERY:
            continue
        if not validate(schema, document):
            found.append(text)
    return found


def variable_choices(document: str, ids: dict[str, str]) -> list[dict[str, Any]]:
    """A few sets of values for the operation's variables: real ids of each kind,
    small pages, both booleans."""
    operation = next(
        d for d in parse(document).definitions if isinstance(d, OperationDefinitionNode)
    )
    options: dict[str, list[Any]] = {}
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        type_text = print_ast(definition.type)
        named = type_text.strip("[]!")
        if type_text.startswith("["):
            options[name] = [[ids["alice"], ids["photo"]], [ids["orphan"], "bad"]]
        elif named == "ID":
            options[name] = [ids["alice"], ids["photo"], ids["orphan"]]
        elif named == "Int":
            options[name] = [2, 0]
        elif named == "Boolean":
            options[name] = [True, False]
        elif named == "String":
            options[name] = ["alice", "nobody"]
        elif named == "ImageSize":
            options[name] = ["THUMBNAIL"]
        else:
            options[name] = [None]
    names = list(options)
    combos = list(itertools.product(*(options[name] for name in names)))[:6]
    return [dict(zip(names, combo, strict=True)) for combo in combos]
