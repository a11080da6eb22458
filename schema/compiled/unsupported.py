"""The refusal the compiler raises (compiler.py, arguments.py)."""

from __future__ import annotations


class Unsupported(Exception):
    """The operation is left to graphql-core's executor; the message says why."""
