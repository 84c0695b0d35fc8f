"""What an API refusal means for a turn: a flag to drop, a model gone, an input too long."""

from __future__ import annotations

from collections.abc import Mapping

from kimi_cli.errors import (
    APIRequestError,
    KimiError,
    ModelNotFoundError,
    NotFoundError,
    UsageError,
)


def explain(exc: KimiError, model_id: str, fixes: Mapping[str, str] | None = None) -> KimiError:
    """What ``exc`` means for a turn on ``model_id``. A 404 is only "not found or no
    permission" here: whether the model is gone takes a look at the live list
    (``ModelWatch.explain_404``), which the turn makes when it can. ``fixes``: the hint for a
    flag's parameter whose value came from elsewhere (the config file), by flag."""
    if isinstance(exc, NotFoundError):
        return ModelNotFoundError(
            f"the API answered 404 for {model_id} ({exc.message or 'not found or no permission'})",
            hint="see the live list with 'kimi models', then 'kimi models use ID'",
            request_id=exc.request_id,
        )
    if isinstance(exc, APIRequestError) and exc.status_code == 400:
        if exc.error_type == "content_filter":
            return exc
        message = exc.message
        if "input token length too long" in message.lower():
            return UsageError(
                f"the input is too long for {model_id}'s context",
                hint="shorten it, or start a new conversation",
                request_id=exc.request_id,
            )
        from kimi_cli.catalog.policy import flag_for_message

        flag = flag_for_message(message)
        if flag:
            hint = (fixes or {}).get(flag) or f"drop or change {flag}"
            return UsageError(message, hint=hint, request_id=exc.request_id)
    return exc
