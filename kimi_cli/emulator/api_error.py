"""The API's error answer: an HTTP status with Moonshot's ``{"error": {"message", "type"}}``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class ApiError(Exception):
    """An error answer: HTTP status, Moonshot error ``type`` and ``message``."""

    def __init__(
        self,
        status: int,
        type_: str,
        message: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.type = type_
        self.message = message
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type}}


def bad(message: str) -> ApiError:
    return ApiError(400, "invalid_request_error", message)


def model_not_found(model_id: str) -> ApiError:
    """Unknown, retired or not-entitled model."""
    return ApiError(
        404, "resource_not_found_error", f"Not found the model {model_id} or Permission denied"
    )
