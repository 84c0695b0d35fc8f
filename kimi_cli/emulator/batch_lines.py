"""A batch input file line by line: the validation that fails a whole batch (with line
numbers, OpenAI-style ``errors.data``), and the result line of each request.

Facts (docs/api-notes.md, Batch API): one request per line, ``{"custom_id", "method": "POST",
"url": "/v1/chat/completions", "body"}``; ``custom_id`` unique; one model per file. The output
line shape is not documented; the emulator writes OpenAI's: ``{"id", "custom_id", "response":
{"status_code", "request_id", "body"}, "error"}``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ENDPOINT = "/v1/chat/completions"


@dataclass(frozen=True)
class Line:
    number: int
    custom_id: str
    body: Mapping[str, Any]


def _error(code: str, message: str, line: int | None) -> dict[str, Any]:
    return {"code": code, "message": message, "param": None, "line": line}


def parse_input(data: bytes, endpoint: str) -> tuple[list[Line], list[dict[str, Any]]]:
    """The requests of an input file, or the validation errors that fail the batch."""
    lines: list[Line] = []
    errors: list[dict[str, Any]] = []
    seen: set[str] = set()
    model: str | None = None
    text = data.decode("utf-8", errors="replace")
    rows = text.split("\n")
    if rows and rows[-1] == "":
        rows.pop()
    for number, row in enumerate(rows, start=1):
        try:
            item = json.loads(row)
        except ValueError:
            item = None
        if not isinstance(item, dict):
            errors.append(
                _error("invalid_json_line", "This line is not parseable as valid JSON.", number)
            )
            continue
        custom_id = item.get("custom_id")
        body = item.get("body")
        if not isinstance(custom_id, str) or not custom_id:
            errors.append(_error("missing_custom_id", "custom_id must be a string.", number))
            continue
        if item.get("method") != "POST":
            errors.append(_error("invalid_method", "The method must be POST.", number))
            continue
        if item.get("url") != endpoint:
            errors.append(
                _error(
                    "invalid_url",
                    f"The URL provided for this request does not match the batch endpoint "
                    f"{endpoint}.",
                    number,
                )
            )
            continue
        if not isinstance(body, dict):
            errors.append(_error("invalid_body", "body must be a JSON object.", number))
            continue
        if custom_id in seen:
            errors.append(
                _error(
                    "duplicate_custom_id",
                    f"The custom_id {custom_id} is a duplicate of another request; "
                    "custom_id must be unique for each request in a batch.",
                    number,
                )
            )
            continue
        seen.add(custom_id)
        line_model = body.get("model")
        if model is None and isinstance(line_model, str):
            model = line_model
        elif line_model != model:
            errors.append(
                _error(
                    "mismatched_model",
                    f"The model {line_model} differs from the model {model} of the other "
                    "requests; a batch takes one model per file.",
                    number,
                )
            )
            continue
        lines.append(Line(number, custom_id, body))
    if not rows:
        errors.append(_error("empty_file", "The input file has no requests.", None))
    return lines, errors


def result_line(
    request_number: int, custom_id: str, status: int, body: Mapping[str, Any]
) -> dict[str, Any]:
    return {
        "id": f"batch_req_emu{request_number:06d}",
        "custom_id": custom_id,
        "response": {
            "status_code": status,
            "request_id": f"emu-batch-{request_number}",
            "body": body,
        },
        "error": None,
    }


def expired_line(request_number: int, custom_id: str) -> dict[str, Any]:
    return {
        "id": f"batch_req_emu{request_number:06d}",
        "custom_id": custom_id,
        "response": None,
        "error": {
            "code": "batch_expired",
            "message": "This request could not be executed before the completion window expired.",
        },
    }
