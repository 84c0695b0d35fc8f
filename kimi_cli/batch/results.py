"""Results: every answer mapped back to its input by ``custom_id``, in input order.

One record per request, the same for ``results`` and ``run``::

    {custom_id, source, content, reasoning, finish_reason,
     usage: {input_tokens, cached_tokens, output_tokens} | null,
     cost: {amount, currency} | null, error: {type, message} | null}

The output and error files of a batch are scanned once for the byte offset of each
``custom_id``, then read back in input order: time is linear in the number of lines and
memory holds offsets only. Lines are parsed leniently (the output format is not
documented; the OpenAI shape is assumed and missing fields are tolerated).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kimi_cli.api.types import Usage
from kimi_cli.pricing import Cost, cost_of

NOT_PROCESSED = {"type": "not_processed", "message": "no result: the request did not run"}


def batch_cost(usage: Usage | None, model: str, currency: str | None) -> Cost | None:
    """The cost at the Batch API's price (a share of the list price)."""
    if usage is None:
        return None
    return cost_of(usage, model, currency, batch=True)


def record(
    custom_id: str,
    source: str,
    *,
    content: str | None = None,
    reasoning: str | None = None,
    finish_reason: str | None = None,
    usage: Usage | None = None,
    cost: Cost | None = None,
    error: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "custom_id": custom_id,
        "source": source,
        "content": content,
        "reasoning": reasoning,
        "finish_reason": finish_reason,
        "usage": usage_json(usage),
        "cost": {"amount": cost.amount, "currency": cost.currency} if cost else None,
        "error": dict(error) if error is not None else None,
    }


def usage_json(usage: Usage | None) -> dict[str, int] | None:
    if usage is None:
        return None
    return {
        "input_tokens": usage.input_tokens,
        "cached_tokens": usage.cached_tokens,
        "output_tokens": usage.output_tokens,
    }


def usage_of(data: Mapping[str, Any] | None) -> Usage | None:
    if not data:
        return None
    return Usage(
        input_tokens=int(data.get("input_tokens") or 0),
        output_tokens=int(data.get("output_tokens") or 0),
        cached_tokens=int(data.get("cached_tokens") or 0),
    )


def from_output_line(
    line: dict[str, Any], source: str, model: str, currency: str | None
) -> dict[str, Any]:
    """A record from one line (parsed JSON) of a batch's output or error file."""
    custom_id = str(line.get("custom_id", ""))
    response = _obj(line.get("response"))
    body = _obj(response.get("body"))
    status = response.get("status_code")
    error = line.get("error") or body.get("error")
    if error or (type(status) is int and status >= 400):
        return record(custom_id, source, error=_error_json(error, status))
    choices = body.get("choices")
    choice = _obj(choices[0]) if type(choices) is list and choices else {}
    message = _obj(choice.get("message"))
    raw_usage = body.get("usage")
    usage = Usage.from_json(raw_usage) if type(raw_usage) is dict else None
    used_model = body.get("model")
    return record(
        custom_id,
        source,
        content=_str(message.get("content")),
        reasoning=_str(message.get("reasoning_content")) or None,
        finish_reason=_str(choice.get("finish_reason")) or None,
        usage=usage,
        cost=batch_cost(usage, used_model if type(used_model) is str else model, currency),
    )


def _obj(value: Any) -> dict[str, Any]:
    """A JSON object, or an empty one for anything else (JSON objects load as dicts)."""
    return value if type(value) is dict else {}


def _error_json(error: Any, status: Any) -> dict[str, Any]:
    if isinstance(error, Mapping):
        kind = error.get("type") or error.get("code") or "error"
        return {"type": str(kind), "message": str(error.get("message", ""))}
    if isinstance(error, str):
        return {"type": "error", "message": error}
    return {"type": "http_error", "message": f"status {status}"}


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


@dataclass
class LineIndex:
    """Where each ``custom_id`` sits in the downloaded output and error files."""

    files: list[Path] = field(default_factory=list)
    offsets: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # file, start, size

    def add(self, path: Path) -> None:
        number = len(self.files)
        self.files.append(path)
        with path.open("rb") as stream:
            offset = 0
            for raw in stream:
                custom_id = _custom_id_of(raw)
                # An answer in the output file wins over an error line for the same id.
                if custom_id is not None and custom_id not in self.offsets:
                    self.offsets[custom_id] = (number, offset, len(raw))
                offset += len(raw)

    def lines(self, order: Iterable[tuple[str, str]]) -> Iterator[tuple[str, str, Any]]:
        """``(custom_id, source, parsed line or None)`` in the order given."""
        # Unbuffered: a seek then a read of exactly the line, not of a whole buffer.
        streams = [path.open("rb", buffering=0) for path in self.files]
        try:
            for custom_id, source in order:
                where = self.offsets.get(custom_id)
                if where is None:
                    yield custom_id, source, None
                    continue
                stream = streams[where[0]]
                stream.seek(where[1])
                yield custom_id, source, json.loads(stream.read(where[2]))
        finally:
            for stream in streams:
                stream.close()


_CUSTOM_ID = re.compile(rb'"custom_id"\s*:\s*"((?:[^"\\]|\\.)*)"')


def _custom_id_of(raw: bytes) -> str | None:
    """The line's custom_id; a regular expression first, full JSON only when it fails."""
    match = _CUSTOM_ID.search(raw)
    if match is not None:
        text = match.group(1)
        if b"\\" not in text:
            return text.decode("utf-8", "replace")
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    value = data.get("custom_id") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


#: Reasoning used the whole output budget and left no answer: an error in chat, so here too.
NO_ANSWER = {
    "type": "length",
    "message": "no answer within the token budget: reasoning used all of it — raise it with "
    "--max-tokens (or max_completion_tokens), or lower the effort",
}


def checked(result: dict[str, Any], schema: dict[str, Any] | None) -> dict[str, Any]:
    """An answer that is none (``finish_reason: length`` with no content) or that breaks the
    job's ``--schema`` becomes a failure (what came is kept)."""
    if result["error"] is not None:
        return result
    if result["finish_reason"] == "length" and not result["content"]:
        result["error"] = dict(NO_ANSWER)
        return result
    if schema is None:
        return result
    from kimi_cli.schema import first_violation

    violation = first_violation(schema, result["content"] or "")
    if violation is not None:
        message = f"the answer does not match the schema at {violation.path}: {violation.message}"
        result["error"] = {"type": "schema_mismatch", "message": message}
    return result


def map_results(
    index: LineIndex,
    order: Iterable[tuple[str, str]],
    model: str,
    currency: str | None,
    schema: dict[str, Any] | None = None,
) -> Iterator[dict[str, Any]]:
    for custom_id, source, line in index.lines(order):
        if type(line) is not dict:
            yield record(custom_id, source, error=NOT_PROCESSED)
        else:
            yield checked(from_output_line(line, source, model, currency), schema)


class Spend:
    """What answered requests used and cost, summed from their result records."""

    def __init__(self) -> None:
        self.usage = Usage()
        self.cost = 0.0
        self.unknown = False  # some usage had no listed price: the total is not known
        self.requests = 0

    def add(self, record: Mapping[str, Any]) -> None:
        used = usage_of(record["usage"])
        if used is None:
            return
        self.requests += 1
        self.usage = Usage(
            self.usage.input_tokens + used.input_tokens,
            self.usage.output_tokens + used.output_tokens,
            self.usage.cached_tokens + used.cached_tokens,
        )
        if record["cost"] is None:
            self.unknown = True
        else:
            self.cost += float(record["cost"]["amount"])
