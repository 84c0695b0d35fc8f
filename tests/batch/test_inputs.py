"""Issue: kimi batch inputs. Every form of input becomes the request chat would send, and
the whole input is checked before anything is sent: exit 2 naming the line, exit 5 for a
model the account does not list."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kimi_cli.emulator import Emulator
from tests.helpers import invoke, run_process


def sent(emu: Emulator) -> list[dict[str, object]]:
    return list(emu.stats()["chat_requests"])


def nothing_sent(emu: Emulator) -> bool:
    requests = emu.stats()["requests"]
    return not any(("chat" in k or "files" in k or "batches" in k) for k in requests)


def write_jsonl(path: Path, lines: list[object]) -> Path:
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    return path


def test_files_with_a_prompt_are_sent_as_chat_f_sends_them(
    configured: Emulator, tmp_path: Path
) -> None:
    (tmp_path / "a.md").write_text("ECHO alpha\n", encoding="utf-8")
    (tmp_path / "b.txt").write_text("beta", encoding="utf-8")
    files = [str(tmp_path / "a.md"), str(tmp_path / "b.txt")]
    out = invoke("batch", "run", "-p", "summarise", *files)
    assert out.code == 0, out.stderr
    records = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["custom_id"] for r in records] == files
    assert [r["source"] for r in records] == files
    bodies = sorted(sent(configured), key=lambda b: str(b["messages"]))
    user = [b["messages"][-1]["content"] for b in bodies]  # type: ignore[index]
    assert f"{files[0]}\n```\nECHO alpha\n```\n\nsummarise" in user
    assert f"{files[1]}\n```\nbeta\n```\n\nsummarise" in user
    for body in bodies:
        assert body["model"] == "kimi-k2.6"
        assert "stream" not in body or body["stream"] is False
        assert "temperature" not in body


def test_simple_and_api_shapes_and_stdin(configured: Emulator) -> None:
    lines = [
        {"prompt": "ECHO first"},
        {
            "custom_id": "raw",
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {"messages": [{"role": "user", "content": "ECHO second"}]},
        },
        {"custom_id": "sys", "prompt": "ECHO third", "system": "be brief"},
    ]
    data = "".join(json.dumps(x) + "\n" for x in lines)
    out = invoke("batch", "run", "-", input=data)
    assert out.code == 0, out.stderr
    records = [json.loads(line) for line in out.stdout.splitlines()]
    assert [(r["custom_id"], r["content"]) for r in records] == [
        ("line-1", "first"),
        ("raw", "second"),
        ("sys", "third"),
    ]
    assert records[0]["source"] == "stdin:1"
    systems = [b["messages"][0] for b in sent(configured) if b["messages"][0]["role"] == "system"]
    assert systems == [{"role": "system", "content": "be brief"}]


@pytest.mark.parametrize("command", ["run", "submit"])
def test_a_sampling_value_on_a_fixed_sampling_model_is_refused_naming_the_line(
    configured: Emulator, tmp_path: Path, command: str
) -> None:
    good = {"custom_id": "a", "body": {"messages": [{"role": "user", "content": "hi"}]}}
    bad = {
        "custom_id": "b",
        "body": {"messages": [{"role": "user", "content": "hi"}], "temperature": 0.3},
    }
    path = write_jsonl(tmp_path / "in.jsonl", [good, good | {"custom_id": "c"}, bad])
    out = invoke("batch", command, str(path))
    line = out.assert_one_error_line(2)
    assert "line 3" in line and "temperature" in line
    assert nothing_sent(configured)


@pytest.mark.parametrize(
    ("lines", "where", "words"),
    [
        ([{"prompt": "a", "custom_id": "x"}, {"prompt": "b", "custom_id": "x"}], "line 2", "twice"),
        ([{"prompt": "a"}, "[1, 2]"], "line 2", "not a JSON object"),
        ([{"prompt": "a"}, "{oops"], "line 2", "not valid JSON"),
        ([{"prompt": ""}], "line 1", "prompt"),
        ([{"prompt": "a", "colour": "red"}], "line 1", "colour"),
        ([{"custom_id": "a", "url": "/v1/embeddings", "body": {}}], "line 1", "url"),
        ([{"custom_id": "a", "body": {"messages": [], "stream": True}}], "line 1", "stream"),
        ([{"prompt": "a"}, {"prompt": "b", "model": "kimi-k3"}], "line 2", "one model"),
    ],
)
def test_bad_lines_are_exit_2_naming_the_line_before_upload(
    configured: Emulator, tmp_path: Path, lines: list[object], where: str, words: str
) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(
        "".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines),
        encoding="utf-8",
    )
    out = invoke("batch", "submit", str(path))
    line = out.assert_one_error_line(2)
    assert where in line and words in line, line
    assert nothing_sent(configured)


def test_a_model_the_account_does_not_list_is_exit_5_and_nothing_is_uploaded(
    configured: Emulator, tmp_path: Path
) -> None:
    path = write_jsonl(
        tmp_path / "in.jsonl", [{"prompt": "a"}, {"prompt": "b", "model": "moonshotai/kimi-k2.6"}]
    )
    out = invoke("batch", "submit", str(path), "-m", "kimi-k2.6")
    line = out.assert_one_error_line(5)
    assert "line 2" in line
    assert nothing_sent(configured)


def test_a_flag_the_model_refuses_is_exit_2(configured: Emulator, tmp_path: Path) -> None:
    (tmp_path / "p.txt").write_text("one\ntwo\n", encoding="utf-8")
    out = invoke("batch", "run", "--lines", str(tmp_path / "p.txt"), "--temperature", "0.2")
    line = out.assert_one_error_line(2)
    assert "temperature" in line
    assert nothing_sent(configured)


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24


def test_an_image_is_sent_as_chat_f_sends_it(configured: Emulator, tmp_path: Path) -> None:
    (tmp_path / "shot.jpg").write_bytes(PNG)  # named .jpg, but its bytes say png
    out = invoke("batch", "run", "-p", "what is it", str(tmp_path / "shot.jpg"))
    assert out.code == 0, out.stderr
    (body,) = sent(configured)
    (message,) = body["messages"]  # type: ignore[misc]
    text, image = message["content"]
    assert text == {"type": "text", "text": "what is it"}
    assert image["type"] == "image_url"
    assert image["image_url"]["url"].startswith("data:image/png;base64,")


def test_a_broken_image_is_refused_before_sending(configured: Emulator, tmp_path: Path) -> None:
    (tmp_path / "x.png").write_bytes(b"not an image at all \x00\x01")
    out = invoke("batch", "run", "-p", "what is it", str(tmp_path / "x.png"))
    line = out.assert_one_error_line(2)
    assert "x.png" in line and "image" in line
    assert nothing_sent(configured)


def test_an_image_for_a_model_without_image_input_is_exit_2(
    configured: Emulator, tmp_path: Path
) -> None:
    (tmp_path / "x.png").write_bytes(PNG)
    out = invoke("batch", "run", "-m", "kimi-k2.7-code", "-p", "what", str(tmp_path / "x.png"))
    line = out.assert_one_error_line(2)
    assert "does not take images" in line and "x.png" in line
    assert nothing_sent(configured)


def test_a_document_is_sent_as_chat_f_sends_it(configured: Emulator, tmp_path: Path) -> None:
    doc = tmp_path / "report.pdf"
    doc.write_bytes(b"%PDF-1.4\n\x00\x01binary body\n%%EOF\n")
    out = invoke("batch", "run", "-p", "summarise", str(doc), "-s", "be brief")
    assert out.code == 0, out.stderr
    (body,) = sent(configured)
    roles = [m["role"] for m in body["messages"]]  # type: ignore[index]
    assert roles == ["system", "system", "user"]
    assert body["messages"][0]["content"] == "be brief"  # type: ignore[index]
    assert body["messages"][1]["content"]  # the extracted text  # type: ignore[index]
    assert body["messages"][2]["content"] == "summarise"  # type: ignore[index]
    uploads = configured.stats()["requests"].get("POST /v1/files", 0)
    assert uploads == 1
    again = invoke("batch", "run", "-p", "summarise again", str(doc))
    assert again.code == 0, again.stderr
    assert configured.stats()["requests"].get("POST /v1/files", 0) == 1  # the index knew it


@pytest.mark.parametrize("command", ["run", "submit"])
def test_a_refused_flag_uploads_no_document(
    configured: Emulator, tmp_path: Path, command: str
) -> None:
    doc = tmp_path / "report.pdf"
    doc.write_bytes(b"%PDF-1.4\n\x00\x01binary body\n%%EOF\n")
    out = invoke("batch", command, "-p", "summarise", str(doc), "--temperature", "0.3")
    line = out.assert_one_error_line(2)
    assert str(doc) in line and "temperature" in line
    assert nothing_sent(configured)


@pytest.mark.parametrize(
    "args",
    [
        ["-p", "x"],
        ["--lines", "a.txt", "b.txt"],
        ["a.jsonl", "b.jsonl"],
        [],
    ],
)
def test_mixed_up_inputs_are_usage_errors(configured: Emulator, args: list[str]) -> None:
    invoke("batch", "run", *args).assert_one_error_line(2)


@pytest.mark.parametrize("command", ["run", "submit"])
def test_max_cost_below_the_worst_case_is_exit_6_with_nothing_sent(
    configured: Emulator, tmp_path: Path, command: str
) -> None:
    assert invoke("config", "set", "currency", "USD").code == 0
    (tmp_path / "p.txt").write_text("ECHO one\nECHO two\n", encoding="utf-8")
    args = ("batch", command, "--lines", str(tmp_path / "p.txt"), "--max-tokens", "1000")
    refused = invoke(*args, "--max-cost", "0.001")
    line = refused.assert_one_error_line(6)
    assert "--max-cost" in line and "nothing was sent" in line
    assert nothing_sent(configured)
    allowed = invoke(*args, "--max-cost", "1")
    assert allowed.code == 0, allowed.stderr
    bad = invoke(*args, "--max-cost", "lots")
    bad.assert_one_error_line(2)


@pytest.mark.parametrize("window", ["6h", "8d", "tomorrow", "24"])
def test_a_window_the_api_does_not_take_is_refused_before_upload(
    configured: Emulator, tmp_path: Path, window: str
) -> None:
    (tmp_path / "p.txt").write_text("ECHO one\n", encoding="utf-8")
    out = invoke("batch", "submit", "--lines", str(tmp_path / "p.txt"), "--window", window)
    assert "--window" in out.assert_one_error_line(2)
    assert nothing_sent(configured)


def test_a_byte_order_mark_before_the_first_line_is_not_part_of_it(
    configured: Emulator, tmp_path: Path
) -> None:
    """Windows editors and PowerShell write UTF-8 with a BOM: the JSONL is not refused for
    it, and a --lines prompt does not start with it."""
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_bytes(b"\xef\xbb\xbf" + json.dumps({"prompt": "ECHO first"}).encode() + b"\n")
    out = run_process("batch", "run", str(jsonl))
    assert out.code == 0, out.stderr
    assert [json.loads(line)["content"] for line in out.stdout.splitlines()] == ["first"]

    lines = tmp_path / "lines.txt"
    lines.write_bytes(b"\xef\xbb\xbfECHO second\r\nECHO third\r\n")
    out = run_process("batch", "run", "--lines", str(lines))
    assert out.code == 0, out.stderr
    asked = [b["messages"][-1]["content"] for b in sent(configured)]  # type: ignore[index]
    assert sorted(asked[-2:]) == ["ECHO second", "ECHO third"]  # sent concurrently
