"""Every GraphQL operation the console sends is valid against the API's schema and limits."""

from __future__ import annotations

import functools

import pytest
from consoleops import declared_names, documents, kinds
from graphql import GraphQLSchema, print_ast, validate
from graphql.language import Lexer, Source, TokenKind
from strawberry.extensions.query_depth_limiter import create_validator

from schema import build_schema

MAX_TOKENS = 2000  # build_schema's default document limit
MAX_DEPTH = 12  # build_schema's default depth limit


@functools.cache
def api_schema() -> GraphQLSchema:
    return build_schema()._schema


def token_count(text: str) -> int:
    lexer = Lexer(Source(text))
    count = 0
    while lexer.advance().kind is not TokenKind.EOF:
        count += 1
    return count


@pytest.mark.parametrize("name", sorted(documents()))
def test_operation_is_valid_against_the_schema(name: str) -> None:
    """Each operation (with its fragments) passes the schema's validation, depth rule included."""
    schema = api_schema()
    document = documents()[name]
    errors = validate(schema, document, rules=None)
    errors += validate(schema, document, rules=[create_validator(MAX_DEPTH, None)])
    assert errors == [], [error.message for error in errors]


@pytest.mark.parametrize("name", sorted(documents()))
def test_operation_is_within_the_token_limit(name: str) -> None:
    """Each document the console sends stays under the API's token limit."""
    assert token_count(print_ast(documents()[name])) < MAX_TOKENS


def test_typescript_names_match_the_operations_file() -> None:
    """operations.ts's unions name exactly the operations in operations.graphql, by kind."""
    declared = declared_names()
    found: dict[str, set[str]] = {"query": set(), "mutation": set(), "subscription": set()}
    for name, kind in kinds().items():
        found[kind].add(name)
    assert declared == found
