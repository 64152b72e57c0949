"""What a GraphQL request must pass before anything is read, and the time it may take once it runs.

- **One operation.** A document with several operations must name one (``operationName``).
- **Variables of the declared types**, coerced before execution (a wrong type is the client's
  error: 400, never a resolver failure).
- **Cost.** The objects a query may return: for every object-typed field (each alias counts), the
  product of the ``first`` arguments along its path (a ``first`` left out counts as its default),
  summed. Over ``MAX_COST`` the request is refused before any read.
- **Time budget.** Once running, a request that passes ``TIME_BUDGET_SECONDS`` stops resolving
  fields (each later field fails with ``operation_failed``), so no request holds a reader for long.

Each refusal is a GraphQL error without an original error, which ``execute.run`` answers with
HTTP 400 ``invalid_request``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    value_from_ast,
)
from graphql.execution.values import get_variable_values
from graphql.utilities import get_operation_ast
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionResult

from shared.errors import OperationFailed
from shared.pagination import DEFAULT_LIMIT

MAX_COST = 10_000
TIME_BUDGET_SECONDS = 2.0


def _first_of(field: GraphQLField, node: FieldNode, variables: dict[str, Any]) -> int:
    """How many items a list field may return: its ``first`` argument, else that argument's default."""
    argument = field.args.get("first")
    if argument is None:
        return 1
    given = next((a for a in node.arguments or () if a.name.value == "first"), None)
    value = value_from_ast(given.value, argument.type, variables) if given is not None else argument.default_value
    return value if isinstance(value, int) and not isinstance(value, bool) else DEFAULT_LIMIT


def _fields(
    selection_set: SelectionSetNode | None, fragments: dict[str, FragmentDefinitionNode], seen: frozenset[str]
) -> Iterator[FieldNode]:
    """The field nodes of a selection set, with fragments (named and inline) expanded."""
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from _fields(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                yield from _fields(fragment.selection_set, fragments, seen | {selection.name.value})


def query_cost(
    schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, variables: dict[str, Any]
) -> int:
    """The most objects the operation may return (see the module's docstring)."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}

    def cost(parent: GraphQLObjectType, selection_set: SelectionSetNode | None, factor: int) -> int:
        total = 0
        for node in _fields(selection_set, fragments, frozenset()):
            field = parent.fields.get(node.name.value)
            if field is None:  # __typename and introspection: no read
                continue
            named = get_named_type(field.type)
            if isinstance(named, GraphQLObjectType):  # scalars come with their object
                here = factor * _first_of(field, node, variables)
                total += here + cost(named, node.selection_set, here)
        return total

    root = schema.get_root_type(operation.operation)
    return cost(root, operation.selection_set, 1) if root is not None else 0


class QueryLimits(SchemaExtension):
    """One operation, typed variables and a bounded cost, checked before execution; then a time budget."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        refusal = self._refusal(context.schema._schema, context.graphql_document, context.variables)
        if refusal is not None:
            context.result = ExecutionResult(data=None, errors=[refusal])
        self.deadline = time.monotonic() + TIME_BUDGET_SECONDS
        yield

    def _refusal(
        self, schema: GraphQLSchema, document: DocumentNode | None, variables: dict[str, Any] | None
    ) -> GraphQLError | None:
        if document is None:
            return None
        # The name the client gave, not strawberry's fallback to the first operation's name.
        operation = get_operation_ast(document, getattr(self.execution_context.context, "operation_name", None))
        if operation is None:
            return GraphQLError("Name one operation in operationName (the document has several, or none by that name).")
        coerced = get_variable_values(schema, operation.variable_definitions or (), variables or {})
        if isinstance(coerced, list):
            return GraphQLError("; ".join(error.message for error in coerced))
        spent = query_cost(schema, document, operation, coerced.coerced)
        if spent > MAX_COST:
            return GraphQLError(
                f"The query may return {spent:,} objects, over the limit of {MAX_COST:,}: ask for fewer (first)."
            )
        return None

    def resolve(self, _next: Callable[..., Any], root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        if time.monotonic() > self.deadline:
            raise OperationFailed(f"The query ran past its time budget of {TIME_BUDGET_SECONDS:g} s; ask for less.")
        return _next(root, info, *args, **kwargs)
