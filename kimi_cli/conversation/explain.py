"""What an API refusal means for a turn: a flag to drop, a model gone, an input too long."""

from __future__ import annotations

from kimi_cli.errors import (
    APIRequestError,
    KimiError,
    ModelNotFoundError,
    NotFoundError,
    UsageError,
)


def explain(exc: KimiError, model_id: str) -> KimiError:
    if isinstance(exc, NotFoundError):
        return ModelNotFoundError(
            f"{model_id} is no longer served ({exc.message})",
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
            return UsageError(message, hint=f"drop or change {flag}", request_id=exc.request_id)
    return exc
