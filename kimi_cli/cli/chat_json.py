"""The ``--json`` document of a chat turn (docs/usage.md, "Pipes and scripts"): loaded only
with --json."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kimi_cli.conversation.rules import search_cost_json

if TYPE_CHECKING:
    from kimi_cli.conversation.turn import TurnResult
    from kimi_cli.schema import OutputSchema, SchemaViolation


def result_json(
    result: TurnResult,
    schema: OutputSchema | None = None,
    violation: SchemaViolation | None = None,
) -> dict[str, Any]:
    usage = result.usage
    data: dict[str, Any] = {
        "model": result.model,
        "content": result.content,
        "reasoning": result.reasoning,
        "finish_reason": result.finish_reason,
        "usage": {
            "input_tokens": usage.input_tokens if usage else None,
            "cached_tokens": usage.cached_tokens if usage else None,
            "output_tokens": usage.output_tokens if usage else None,
        },
        "cost": (
            {"amount": result.cost.amount, "currency": result.cost.currency}
            if result.cost
            else None
        ),
        "request_id": result.request_id,
        "conversation_id": result.conversation_id,
        "partial": result.partial,
        "searches": [{"query": query} for query in result.searches],
        "search_cost": search_cost_json(result),
    }
    if schema is not None:
        data["schema"] = {
            "name": schema.name,
            "valid": violation is None and result.error is None,
            "violation": (
                {"path": violation.path, "message": violation.message} if violation else None
            ),
        }
    if result.error is not None:
        code = result.error.exit_code
        data["error"] = {
            # The API's own error type when it gave one, else the kind of docs/exit-codes.md.
            "type": result.error.error_type or code.name.lower(),
            "exit_code": int(code),
            "message": result.error.message,
        }
    return data
