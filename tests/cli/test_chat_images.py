"""Images and other input as a user gives it: ``-f`` by content, ``-f -``, an image alone,
images that stay in the conversation, a prompt argument that is not UTF-8, and the
``prompt_cache_key`` that keeps one conversation's requests together."""

from __future__ import annotations

import base64
import hashlib
import json
import struct
import zlib
from pathlib import Path
from typing import Any

from kimi_cli.emulator import Emulator
from tests.helpers import invoke, run_process


def png(width: int = 4, height: int = 4) -> bytes:
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def requests(emu: Emulator) -> list[dict[str, Any]]:
    return list(emu.stats()["chat_requests"])


def image_parts(message: dict[str, Any]) -> list[str]:
    content = message["content"]
    if isinstance(content, str):
        return []
    return [p["image_url"]["url"] for p in content if p["type"] == "image_url"]


def test_an_image_alone_is_sent_without_an_empty_text_part(
    configured: Emulator, tmp_path: Path
) -> None:
    picture = tmp_path / "red.png"
    picture.write_bytes(png())
    out = run_process("chat", "-f", str(picture))  # no prompt, stdout a pipe: sent as it is
    assert out.code == 0, out.stderr
    content = requests(configured)[-1]["messages"][-1]["content"]
    assert [part["type"] for part in content] == ["image_url"]


def test_image_type_comes_from_the_bytes_not_the_name(configured: Emulator, tmp_path: Path) -> None:
    disguised = tmp_path / "photo.txt"
    disguised.write_bytes(png())
    out = invoke("chat", "-f", str(disguised), "ECHO what is it")
    assert out.code == 0, out.stderr
    [url] = image_parts(requests(configured)[-1]["messages"][-1])
    assert url.startswith("data:image/png;base64,")

    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a picture at all")
    out = invoke("chat", "-f", str(broken), "ECHO x")
    line = out.assert_one_error_line(2)
    assert "broken.png is not a png, jpeg, webp or gif image" in line
    assert len(requests(configured)) == 1  # refused before sending


def test_an_image_over_the_api_limit_is_refused_before_sending_naming_it(
    configured: Emulator, tmp_path: Path
) -> None:
    huge = tmp_path / "huge.png"
    with huge.open("wb") as handle:
        handle.write(png())
        handle.truncate(76 * 1000 * 1000)  # sparse: quick to make
    out = invoke("chat", "-f", str(huge), "ECHO x")
    line = out.assert_one_error_line(2)
    assert "75 MB per image (100 MB per request once encoded)" in line
    assert requests(configured) == []


def test_images_stay_in_the_conversation_stored_once_by_hash(
    configured: Emulator, tmp_path: Path, isolated_env: Path
) -> None:
    data = png()
    picture = tmp_path / "red.png"
    picture.write_bytes(data)
    assert invoke("chat", "-f", str(picture), "ECHO first").code == 0
    assert invoke("chat", "-c", "ECHO second").code == 0
    first_user = requests(configured)[-1]["messages"][0]
    [url] = image_parts(first_user)  # the picture is sent again with the earlier question
    assert base64.b64decode(url.split(",", 1)[1]) == data
    assert first_user["content"][0] == {"type": "text", "text": "ECHO first"}
    sha = hashlib.sha256(data).hexdigest()
    stored = isolated_env / "data" / "images" / sha
    assert stored.read_bytes() == data
    history = (isolated_env / "data" / "history.db").read_bytes()
    assert base64.b64encode(data)[:40] not in history  # a reference, not the bytes

    stored.unlink()
    out = invoke("chat", "-c", "ECHO third")
    assert out.code == 0
    assert "image red.png is no longer attached" in out.stderr
    assert image_parts(requests(configured)[-1]["messages"][0]) == []


def test_dash_f_dash_reads_standard_input(configured: Emulator) -> None:
    out = run_process("chat", "-f", "-", "ECHO look", input=png())
    assert out.code == 0, out.stderr
    assert image_parts(requests(configured)[-1]["messages"][-1])
    out = run_process("chat", "-f", "-", "summarise", input="piped notes\n")
    assert out.code == 0, out.stderr
    sent = requests(configured)[-1]["messages"][-1]["content"]
    assert sent == "standard input\n```\npiped notes\n```\n\nsummarise"


def test_a_prompt_argument_that_is_not_utf8_is_a_usage_error(configured: Emulator) -> None:
    import os
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable.encode(), b"-m", b"kimi_cli", b"chat", b"ECHO \xff"],
        capture_output=True,
        env={**os.environ, "LC_ALL": "C.UTF-8"},
        timeout=60,
    )
    stderr = proc.stderr.decode()
    assert proc.returncode == 2, stderr
    assert "kimi: error: the argument 'ECHO \\xff' is not valid UTF-8 (byte offset 5)" in stderr
    assert "Traceback" not in stderr
    assert requests(configured) == []


def test_binary_input_hints_say_what_works_for_the_command(
    configured: Emulator, tmp_path: Path
) -> None:
    picture = tmp_path / "red.png"
    picture.write_bytes(png())
    out = invoke("tokens", str(picture))
    line = out.assert_one_error_line(2)
    assert "kimi tokens counts text only" in line and "-f" not in line
    out = invoke("chat", "ECHO x", input=b"a\x00b")
    line = out.assert_one_error_line(2)
    assert "NUL" in line and "png/jpeg/webp/gif images" in line


def test_json_errors_use_documented_kinds(configured: Emulator) -> None:
    configured.configure(faults=[{"name": "stream_cut"}])
    out = invoke("chat", "--json", "LOREM 200")
    assert out.code == 75
    error = json.loads(out.stdout)["error"]
    assert error["type"] == "temporary" and error["exit_code"] == 75
    assert "StreamCutError" not in json.dumps(error)  # no class name of the code


def test_one_conversation_one_prompt_cache_key(configured: Emulator) -> None:
    assert invoke("chat", "ECHO one").code == 0
    assert invoke("chat", "-c", "ECHO two").code == 0
    assert invoke("chat", "ECHO other").code == 0
    first, second, other = (body.get("prompt_cache_key") for body in requests(configured))
    assert first and first == second
    assert other and other != first


def test_a_model_switch_inside_a_conversation_is_said_once(configured: Emulator) -> None:
    assert invoke("chat", "ECHO one").code == 0
    out = invoke("chat", "-c", "-m", "kimi-k3", "ECHO two")
    assert out.code == 0, out.stderr
    assert out.stderr.count("model kimi-k2.6 → kimi-k3 inside this conversation") == 1
    out = invoke("chat", "-c", "ECHO three")  # the conversation now uses kimi-k3
    assert "inside this conversation" not in out.stderr
