"""Issue: kimi batch results. Every output or error line maps back to its input by
custom_id, in input order; a request with no line is not_processed; costs at the batch
price."""

from __future__ import annotations

import json
from pathlib import Path

from kimi_cli.api.types import Usage
from kimi_cli.batch.results import LineIndex, map_results
from kimi_cli.pricing import cost_of


def answer(custom_id: str, text: str) -> dict[str, object]:
    return {
        "id": f"r-{custom_id}",
        "custom_id": custom_id,
        "response": {
            "status_code": 200,
            "request_id": "req",
            "body": {
                "model": "kimi-k2.6",
                "choices": [
                    {
                        "message": {"content": text, "reasoning_content": "hm"},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 1000, "completion_tokens": 500},
            },
        },
        "error": None,
    }


def refusal(custom_id: str) -> dict[str, object]:
    return {
        "id": f"r-{custom_id}",
        "custom_id": custom_id,
        "response": {
            "status_code": 400,
            "body": {"error": {"type": "invalid_request_error", "message": "invalid temperature"}},
        },
        "error": None,
    }


def write(path: Path, lines: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    return path


def test_lines_map_back_in_input_order(tmp_path: Path) -> None:
    odd = 'quote " and \\ slash'
    index = LineIndex()
    index.add(
        write(tmp_path / "out.jsonl", [answer("c", "C"), answer(odd, "odd"), answer("a", "A")])
    )
    index.add(write(tmp_path / "err.jsonl", [refusal("b"), refusal("a")]))
    order = [("a", "x.md"), ("b", "y.md"), ("c", "z.md"), (odd, "q"), ("d", "w.md")]
    records = list(map_results(index, order, "kimi-k2.6", "USD"))
    assert [r["custom_id"] for r in records] == ["a", "b", "c", odd, "d"]
    assert [r["source"] for r in records] == ["x.md", "y.md", "z.md", "q", "w.md"]
    assert records[0]["content"] == "A" and records[0]["error"] is None  # the answer wins
    assert records[0]["reasoning"] == "hm" and records[0]["finish_reason"] == "stop"
    assert records[1]["error"] == {
        "type": "invalid_request_error",
        "message": "invalid temperature",
    }
    assert records[3]["content"] == "odd"
    assert records[4]["error"]["type"] == "not_processed"
    assert records[4]["content"] is None


def test_cost_is_at_the_batch_price(tmp_path: Path) -> None:
    index = LineIndex()
    index.add(write(tmp_path / "out.jsonl", [answer("a", "A")]))
    (record,) = map_results(index, [("a", "s")], "kimi-k2.6", "USD")
    listed = cost_of(Usage(input_tokens=1000, output_tokens=500), "kimi-k2.6", "USD")
    assert listed is not None
    assert record["cost"]["currency"] == "USD"
    assert abs(record["cost"]["amount"] - listed.amount * 0.6) < 1e-12
    assert record["usage"] == {"input_tokens": 1000, "cached_tokens": 0, "output_tokens": 500}


def test_no_answer_within_the_token_budget_is_a_failure_as_in_chat(tmp_path: Path) -> None:
    """Reasoning used the whole budget: ``content`` is ``""`` with ``finish_reason: length``.
    That is no answer (chat exits 1 for it), not a success; a cut answer stays a success."""
    empty, cut = answer("a", ""), answer("b", "half an ans")
    for line, _ in ((empty, "a"), (cut, "b")):
        line["response"]["body"]["choices"][0]["finish_reason"] = "length"  # type: ignore[index]
    index = LineIndex()
    index.add(write(tmp_path / "out.jsonl", [empty, cut]))
    first, second = map_results(index, [("a", "x"), ("b", "y")], "kimi-k2.6", "USD")
    assert first["error"]["type"] == "length"
    assert "no answer within the token budget" in first["error"]["message"]
    assert first["usage"] is not None and first["reasoning"] == "hm"  # billed all the same
    assert second["error"] is None and second["content"] == "half an ans"
