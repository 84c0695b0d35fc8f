"""The Files API client over httpx.MockTransport: what is sent, what comes back, which error."""

from __future__ import annotations

import io
import json
from pathlib import Path

import httpx
import pytest

from kimi_cli.api import files
from kimi_cli.api.files import FileLimitError, FileRefusedError, UnknownFileError
from kimi_cli.errors import ExitCode, TemporaryError
from tests.api.mock import error, make

FILE_JSON = {
    "id": "file-abc",
    "object": "file",
    "bytes": 11,
    "created_at": 1700000000,
    "filename": "notes.pdf",
    "purpose": "file-extract",
    "status": "ok",
}


def parts(request: httpx.Request) -> dict[str, tuple[str | None, bytes]]:
    """The multipart form of a request: name -> (filename, bytes)."""
    boundary = request.headers["content-type"].split("boundary=")[1].encode()
    found: dict[str, tuple[str | None, bytes]] = {}
    for part in request.content.split(b"--" + boundary)[1:-1]:
        head, _, body = part.strip(b"\r\n").partition(b"\r\n\r\n")
        disposition = head.decode().split("\r\n")[0]
        name = disposition.split('name="')[1].split('"')[0]
        filename = (
            disposition.split('filename="')[1].split('"')[0] if "filename=" in disposition else None
        )
        found[name] = (filename, body)
    return found


def test_upload_sends_purpose_and_the_file_bytes_with_a_length(tmp_path: Path) -> None:
    source = tmp_path / "notes.pdf"
    source.write_bytes(b"%PDF-1.4 hi")
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        request.read()
        seen.append(request)
        return httpx.Response(200, json=FILE_JSON)

    client, _ = make(handler)
    progress: list[tuple[int, int]] = []
    got = files.upload(
        client, source, "file-extract", progress=lambda a, b: progress.append((a, b))
    )
    assert got == files.FileObject.from_json(FILE_JSON) and got.status == "ok"
    [request] = seen
    assert (request.method, request.url.path) == ("POST", "/v1/files")
    assert int(request.headers["content-length"]) == len(request.content)
    assert "transfer-encoding" not in request.headers
    form = parts(request)
    assert form["purpose"] == (None, b"file-extract")
    assert form["file"] == ("notes.pdf", b"%PDF-1.4 hi")
    assert progress[0] == (0, 11) and progress[-1] == (11, 11)


def test_upload_streams_in_pieces_and_reports_each(tmp_path: Path) -> None:
    from kimi_cli.api.multipart import PIECE_BYTES, FileUpload

    source = tmp_path / "big.bin"
    source.write_bytes(b"x" * (PIECE_BYTES * 3 + 5))
    progress: list[int] = []
    body = FileUpload(source, {"purpose": "batch"}, progress=lambda sent, _: progress.append(sent))
    pieces = list(body)
    assert max(len(p) for p in pieces) <= PIECE_BYTES  # never the whole file at once
    assert sum(len(p) for p in pieces) == body.length
    assert progress == [0, PIECE_BYTES, 2 * PIECE_BYTES, 3 * PIECE_BYTES, 3 * PIECE_BYTES + 5]


def test_upload_is_not_repeated_once_bytes_went_out(tmp_path: Path) -> None:
    source = tmp_path / "a.txt"
    source.write_text("hello")
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        request.read()
        calls.append(request)
        return httpx.Response(502, text="bad gateway")  # the file may exist now

    client, sleeps = make(handler)
    with pytest.raises(TemporaryError):
        files.upload(client, source, "file-extract")
    assert len(calls) == 1 and sleeps == []


def test_upload_refused_at_the_door_is_repeated(tmp_path: Path) -> None:
    source = tmp_path / "a.txt"
    source.write_text("hello")
    answers = iter(
        [
            error(429, "rate_limit_reached_error", "slow down", {"Retry-After": "1"}),
            httpx.Response(200, json=FILE_JSON),
        ]
    )
    bodies: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(request.read())
        return next(answers)

    client, sleeps = make(handler)
    assert files.upload(client, source, "file-extract").id == "file-abc"
    assert sleeps == [1.0] and len(bodies) == 2 and bodies[0] == bodies[1]  # whole both times


def test_upload_repeated_when_no_byte_went_out(tmp_path: Path) -> None:
    from kimi_cli.api import KimiClient
    from tests.api.mock import KEY

    source = tmp_path / "a.txt"
    source.write_text("hello")
    calls: list[httpx.Request] = []

    class RefusedOnce(httpx.BaseTransport):
        """Like a real connection: the body is read only once connected."""

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            calls.append(request)
            if len(calls) == 1:
                raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
            request.read()
            return httpx.Response(200, json=FILE_JSON)

    sleeps: list[float] = []
    client = KimiClient("https://api.example/v1", KEY, transport=RefusedOnce(), sleep=sleeps.append)
    assert files.upload(client, source, "file-extract").id == "file-abc"
    assert len(calls) == 2 and len(sleeps) == 1


@pytest.mark.parametrize(
    ("response", "kind", "words"),
    [
        (
            error(400, "invalid_request_error", "You have exceeded the max file count 1000"),
            FileLimitError,
            "kimi files rm",
        ),
        (
            error(400, "invalid_request_error", "File size is too large, max file size is 100MB"),
            FileRefusedError,
            "too large",
        ),
        (error(400, "invalid_request_error", "File size is zero"), FileRefusedError, "zero"),
        (
            error(500, "server_error", "Failed to extract file: broken xref"),
            FileRefusedError,
            "could not extract",
        ),
    ],
)
def test_upload_refusals_are_told_apart(
    tmp_path: Path, response: httpx.Response, kind: type, words: str
) -> None:
    source = tmp_path / "a.pdf"
    source.write_bytes(b"%PDF")
    client, sleeps = make(lambda r: (r.read(), response)[1])
    with pytest.raises(kind) as info:
        files.upload(client, source, "file-extract")
    assert words in info.value.line()
    assert info.value.exit_code == ExitCode.API_ERROR
    assert sleeps == []


def test_other_400_stays_a_plain_refusal(tmp_path: Path) -> None:
    source = tmp_path / "a.pdf"
    source.write_bytes(b"%PDF")
    client, _ = make(lambda r: error(400, "invalid_request_error", "bad boundary"))
    with pytest.raises(Exception) as info:
        files.upload(client, source, "file-extract")
    assert not isinstance(info.value, FileLimitError | FileRefusedError)


def test_list_filters_by_purpose_and_skips_entries_without_id() -> None:
    batch = {**FILE_JSON, "id": "file-b", "purpose": "batch", "status": "ready"}
    client, _ = make(
        lambda r: httpx.Response(200, json={"object": "list", "data": [FILE_JSON, batch, {"x": 1}]})
    )
    assert [f.id for f in files.list_files(client)] == ["file-abc", "file-b"]
    assert [f.id for f in files.list_files(client, purpose="batch")] == ["file-b"]


def test_lenient_file_object() -> None:
    got = files.FileObject.from_json({"id": "f1", "bytes": "x", "status_details": ""})
    assert (got.filename, got.bytes, got.created_at, got.status_details) == ("", 0, None, None)


@pytest.mark.parametrize(
    "call",
    [
        lambda c: files.retrieve(c, "file-gone"),
        lambda c: files.content(c, "file-gone"),
        lambda c: files.delete(c, "file-gone"),
        lambda c: files.download(c, "file-gone", io.BytesIO()),
    ],
)
def test_unknown_id_is_its_own_error(call: object) -> None:
    client, sleeps = make(
        lambda r: error(404, "resource_not_found_error", "file not found: file-gone")
    )
    with pytest.raises(UnknownFileError) as info:
        call(client)  # type: ignore[operator]
    assert "file-gone" in info.value.line() and sleeps == []


def test_retrieve_content_delete_paths_and_answers() -> None:
    seen: list[tuple[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.url.path))
        if request.url.path.endswith("/content"):
            return httpx.Response(200, text='{"content": "Früh"}')
        if request.method == "DELETE":
            return httpx.Response(200, json={"id": "file-abc", "object": "file", "deleted": True})
        return httpx.Response(200, json=FILE_JSON)

    client, _ = make(handler)
    assert files.retrieve(client, "file-abc").filename == "notes.pdf"
    assert files.content(client, "file-abc") == '{"content": "Früh"}'  # verbatim
    files.delete(client, "file-abc")
    assert seen == [
        ("GET", "/v1/files/file-abc"),
        ("GET", "/v1/files/file-abc/content"),
        ("DELETE", "/v1/files/file-abc"),
    ]


def test_download_writes_the_pieces_as_they_come() -> None:
    lines = [json.dumps({"custom_id": f"r{i}"}).encode() + b"\n" for i in range(500)]

    class Pieces(httpx.SyncByteStream):
        def __iter__(self):  # type: ignore[no-untyped-def]
            yield from lines

    client, _ = make(lambda r: httpx.Response(200, stream=Pieces()))
    out = io.BytesIO()
    assert files.download(client, "file-out", out) == sum(map(len, lines))
    assert out.getvalue() == b"".join(lines)


def test_download_broken_midway_is_temporary_in_words() -> None:
    class Breaking(httpx.SyncByteStream):
        def __iter__(self):  # type: ignore[no-untyped-def]
            yield b'{"custom_id": "r1"}\n'
            raise httpx.RemoteProtocolError("peer closed connection")

    client, _ = make(lambda r: httpx.Response(200, stream=Breaking()))
    out = io.BytesIO()
    with pytest.raises(TemporaryError) as info:
        files.download(client, "file-out", out)
    assert "RemoteProtocolError" not in info.value.line()
    assert "closed the connection" in info.value.line()


def test_a_missing_file_is_a_usage_error_before_any_request(tmp_path: Path) -> None:
    from kimi_cli.errors import UsageError

    calls: list[httpx.Request] = []
    client, _ = make(lambda r: (calls.append(r), httpx.Response(200, json=FILE_JSON))[1])
    with pytest.raises(UsageError) as info:
        files.upload(client, tmp_path / "gone.pdf", "file-extract")
    assert "gone.pdf" in info.value.line() and calls == []
