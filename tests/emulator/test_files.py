"""The Files API: multipart upload, list, retrieve, content, delete, limits and faults."""

from __future__ import annotations

import http.client
import json
from typing import Any

import httpx
import pytest

from kimi_cli.emulator import Emulator

from .helpers import KEY

PDF = b"%PDF-1.4\n\x00\x01\xffBT /F1 12 Tf (Penalty clause seven) Tj ET\n\x02\x03ab\x04"


def _upload(
    client: httpx.Client, name: str, data: bytes, purpose: str = "file-extract"
) -> httpx.Response:
    return client.post("/files", files={"file": (name, data)}, data={"purpose": purpose})


def _ok(client: httpx.Client, name: str, data: bytes, purpose: str = "file-extract") -> Any:
    response = _upload(client, name, data, purpose)
    assert response.status_code == 200, response.text
    return response.json()


def _error(response: httpx.Response, status: int = 400) -> str:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["type"] == ("invalid_request_error" if status == 400 else error["type"])
    return str(error["message"])


def test_upload_gives_a_file_object(client: httpx.Client) -> None:
    body = _ok(client, "notes.md", "# Obligations\n\nPay on time — ünïcode.\n".encode())
    assert set(body) == {
        "id", "object", "bytes", "created_at", "filename", "purpose", "status", "status_details",
    }  # fmt: skip
    assert body["id"].startswith("file-")
    assert body["object"] == "file"
    assert body["bytes"] == len("# Obligations\n\nPay on time — ünïcode.\n".encode())
    assert body["filename"] == "notes.md"
    assert body["purpose"] == "file-extract"
    assert body["status"] == "ok"
    assert isinstance(body["created_at"], int)
    assert client.get(f"/files/{body['id']}").json() == body
    assert client.get("/files").json() == {"object": "list", "data": [body]}


def test_content_of_text_is_the_text(client: httpx.Client) -> None:
    text = "line one\nline two — ünïcode\n"
    file_id = _ok(client, "a.txt", text.encode())["id"]
    response = client.get(f"/files/{file_id}/content")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == text


def test_content_of_a_document_is_a_deterministic_extraction(client: httpx.Client) -> None:
    file_id = _ok(client, "contract.pdf", PDF)["id"]
    first = client.get(f"/files/{file_id}/content").text
    assert first.splitlines()[0].startswith(f"Extracted text of contract.pdf ({len(PDF)} bytes")
    assert "BT /F1 12 Tf (Penalty clause seven) Tj ET" in first
    assert "\x00" not in first and "ab" not in first.splitlines()  # short runs are dropped
    other = _ok(client, "contract.pdf", PDF)["id"]
    assert client.get(f"/files/{other}/content").text == first


def test_delete(client: httpx.Client, emulator: Emulator) -> None:
    file_id = _ok(client, "a.txt", b"x")["id"]
    response = client.delete(f"/files/{file_id}")
    assert response.json() == {"id": file_id, "object": "file", "deleted": True}
    for method, path in (("GET", ""), ("GET", "/content"), ("DELETE", "")):
        gone = client.request(method, f"/files/{file_id}{path}")
        assert gone.status_code == 404
        assert gone.json()["error"]["type"] == "resource_not_found_error"
    assert client.get("/files").json()["data"] == []
    endpoints = emulator.stats()["endpoints"]
    assert endpoints["files.upload"] == 1
    assert endpoints["files.delete"] == 2
    assert endpoints["files.content"] == 1
    assert endpoints["files.retrieve"] == 1


@pytest.mark.parametrize(
    ("name", "purpose", "data", "message"),
    [
        ("a.txt", "file-extract", b"", "File size is zero"),
        ("a.exe", "file-extract", b"MZ", "unsupported file type .exe for purpose file-extract"),
        ("README", "file-extract", b"hi", "unsupported file type (no extension)"),
        ("in.json", "batch", b"{}", "unsupported file type .json for purpose batch"),
        ("a.svg", "image", b"<svg/>", "unsupported file type .svg for purpose image"),
        ("a.txt", "assistants", b"hi", "Invalid purpose"),
        ("a.txt", "", b"hi", "Invalid purpose"),
    ],
)
def test_refused_uploads(
    client: httpx.Client, name: str, purpose: str, data: bytes, message: str
) -> None:
    assert message in _error(_upload(client, name, data, purpose))
    assert client.get("/files").json()["data"] == []


def test_accepted_purposes(client: httpx.Client) -> None:
    for name, purpose in (("a.png", "image"), ("a.mp4", "video"), ("in.jsonl", "batch")):
        assert _ok(client, name, b"\x89data", purpose)["purpose"] == purpose


def test_a_missing_file_part(client: httpx.Client) -> None:
    response = client.post("/files", data={"purpose": "file-extract"}, files={"x": ("", b"")})
    assert "file is required" in _error(response)
    response = client.post("/files", json={"purpose": "file-extract"})
    assert "multipart/form-data" in _error(response)


def test_size_limit(client: httpx.Client, emulator: Emulator) -> None:
    assert emulator.config()["file_max_bytes"] == 100 * 1024 * 1024
    emulator.configure(file_max_bytes=1024 * 1024)
    message = _error(_upload(client, "big.txt", b"x" * (1024 * 1024 + 1)))
    assert message == "File size is too large, max file size is 1MB"
    assert _ok(client, "fits.txt", b"x" * 1024 * 1024)["bytes"] == 1024 * 1024
    # The connection survives a refused upload (the body was read to its end).
    assert client.get("/files").status_code == 200


def test_count_limit(client: httpx.Client, emulator: Emulator) -> None:
    emulator.configure(file_max_count=2)
    _ok(client, "a.txt", b"a")
    _ok(client, "b.txt", b"b")
    message = _error(_upload(client, "c.txt", b"c"))
    assert message.endswith("exceeded the max file count 2")
    first = client.get("/files").json()["data"][0]["id"]
    client.delete(f"/files/{first}")
    _ok(client, "c.txt", b"c")


def test_faults_full_account_and_refused_type(client: httpx.Client, emulator: Emulator) -> None:
    emulator.configure(faults=["files_full:once", "file_type_refused:once"])
    assert "exceeded the max file count 1000" in _error(_upload(client, "a.txt", b"a"))
    assert "unsupported file type .txt" in _error(_upload(client, "a.txt", b"a"))
    _ok(client, "a.txt", b"a")
    faults = [{"name": "extract_failed", "once": True}]
    file_id = client.get("/files").json()["data"][0]["id"]
    emulator.configure(faults=faults)
    response = client.get(f"/files/{file_id}/content")
    assert response.status_code == 500
    assert response.json()["error"] == {
        "type": "server_error",
        "message": "Failed to extract file: emulated parse error",
    }


def test_stats_prove_what_was_not_sent(client: httpx.Client, emulator: Emulator) -> None:
    file_id = _ok(client, "a.txt", b"abc")["id"]
    client.get(f"/files/{file_id}/content")
    stats = emulator.stats()
    assert stats["endpoints"] == {"files.upload": 1, "files.content": 1}
    assert "files.delete" not in stats["endpoints"]
    assert stats["uploaded_bytes"] == 3
    assert stats["bodies"]["files.upload"][0]["content_type"].startswith("multipart/form-data")


def test_a_chunked_upload_in_small_pieces(emulator: Emulator) -> None:
    """A client that streams its multipart body (chunked, arbitrary piece sizes)."""
    boundary = "b0und4ry"
    payload = b"0123456789" * 20000
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\n'
            "file-extract\r\n"
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="n.txt"\r\n'
            "Content-Type: text/plain\r\n\r\n"
        ).encode()
        + payload
        + f"\r\n--{boundary}--\r\n".encode()
    )
    connection = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=10)
    connection.putrequest("POST", "/v1/files")
    connection.putheader("Authorization", f"Bearer {KEY}")
    connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    connection.putheader("Transfer-Encoding", "chunked")
    connection.endheaders()
    for start in range(0, len(body), 7777):
        piece = body[start : start + 7777]
        connection.send(b"%x\r\n%s\r\n" % (len(piece), piece))
    connection.send(b"0\r\n\r\n")
    response = connection.getresponse()
    assert response.status == 200
    file_id = json.loads(response.read())["id"]
    auth = {"Authorization": f"Bearer {KEY}"}
    connection.request("GET", f"/v1/files/{file_id}/content", headers=auth)
    assert connection.getresponse().read() == payload
    connection.close()
