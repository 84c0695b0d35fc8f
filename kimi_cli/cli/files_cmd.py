"""``kimi files upload|list|show|content|rm``: the files of the account (the Files API).

Every change goes through the local index of documents too (kimi_cli.documents), so a file
deleted here is uploaded again by the next ``chat -f`` that needs it.
"""

# No ``from __future__ import annotations``: Typer reads the annotations of the commands.

import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kimi_cli.cli.common import print_json, state_of
from kimi_cli.cli.state import AppState
from kimi_cli.errors import UsageError

if TYPE_CHECKING:
    from kimi_cli.api.client import KimiClient
    from kimi_cli.api.files import FileObject
    from kimi_cli.documents import DocumentIndex

app = typer.Typer(
    help=(
        "Files in the account (Files API): documents for chat -f, batch input.\n\n"
        "Example: kimi files rm --purpose file-extract --older-than 30 -y"
    ),
    no_args_is_help=True,
)


class Purpose(StrEnum):
    file_extract = "file-extract"
    image = "image"
    video = "video"
    batch = "batch"


#: Selecting by purpose takes any word the API gives (it lists batch results as
#: ``batch_output``, say), not only the four an upload may carry.
FilterPurposeOpt = typer.Option(
    "--purpose",
    help="Only files of this purpose (file-extract, image, video, batch, batch_output …).",
    metavar="PURPOSE",
)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="files")


def _client(state: AppState) -> "KimiClient":
    state.require_key()
    return state.client()


def _index(state: AppState) -> "DocumentIndex":
    from kimi_cli.documents import DocumentIndex

    return DocumentIndex(state.settings().cache_dir)


@app.command("upload")
def upload(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Files to upload.")],
    purpose: Annotated[
        Purpose, typer.Option("--purpose", help="What the API does with them.")
    ] = Purpose.file_extract,
    as_json: Annotated[bool, typer.Option("--json", help="The file objects as JSON.")] = False,
) -> None:
    """Upload files; prints each new file's ID (one per line).

    Example: kimi files upload report.pdf --json
    """
    from kimi_cli.api import files
    from kimi_cli.documents import IndexEntry, check_size, human_size
    from kimi_cli.documents.local import sha256_of, size_of
    from kimi_cli.render.progress import UploadBar, upload_bar

    state = state_of(ctx)
    sizes = [size_of(path) for path in paths]
    for path, size in zip(paths, sizes, strict=True):
        check_size(str(path), size)  # every file, before the first is sent
    client = _client(state)
    uploaded: list[FileObject] = []
    try:
        for path, size in zip(paths, sizes, strict=True):
            bar = upload_bar(str(path), size)
            try:
                file = files.upload(client, path, purpose.value, progress=bar)
            finally:
                if isinstance(bar, UploadBar):
                    bar.close()
            uploaded.append(file)
            if purpose is Purpose.file_extract:  # the next chat -f of these bytes reuses it
                entry = IndexEntry(
                    base_url=client.base_url,
                    sha256=sha256_of(path),
                    file_id=file.id,
                    name=path.name,
                    bytes=file.bytes or size,
                    created_at=file.created_at,
                )
                _index(state).record(entry, None)
            if not as_json:
                sys.stdout.write(file.id + "\n")
                sys.stdout.flush()
                sys.stderr.write(f"kimi: uploaded {path} ({human_size(size)}) as {file.id}\n")
    finally:
        # Also when one fails or Ctrl-C stops them: the files uploaded before are on the
        # account, and a script needs their IDs (as a chat's --json keeps a partial answer).
        if as_json and (uploaded or sys.exc_info()[0] is None):
            print_json([file.to_json() for file in uploaded])


@app.command("list")
def list_(
    ctx: typer.Context,
    purpose: Annotated[str | None, FilterPurposeOpt] = None,
    as_json: Annotated[bool, typer.Option("--json", help="An array of file objects.")] = False,
) -> None:
    """The account's files, oldest first: name, size, purpose, age, ID.

    Example: kimi files list --json | jq -r '.[].id'
    """
    from kimi_cli.api import files

    state = state_of(ctx)
    client = _client(state)
    found = files.list_files(client)
    # The listing is the whole account: index entries of files gone from it are dropped.
    _index(state).keep_only(client.base_url, {file.id for file in found})
    if purpose is not None:
        found = [file for file in found if file.purpose == purpose]
    if as_json:
        print_json([file.to_json() for file in found])
        return
    if not found:
        sys.stderr.write("kimi: no files\n")
        return
    sys.stdout.write(_table(found))


def _table(found: "list[FileObject]") -> str:
    from kimi_cli.documents import human_size

    now = time.time()
    rows = [("NAME", "SIZE", "PURPOSE", "AGE", "ID")] + [
        (f.filename, human_size(f.bytes), f.purpose, _age(f.created_at, now), f.id) for f in found
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [
        "  ".join(
            (
                row[0].ljust(widths[0]),
                row[1].rjust(widths[1]),
                row[2].ljust(widths[2]),
                row[3].rjust(widths[3]),
                row[4],
            )
        )
        for row in rows
    ]
    return "\n".join(lines) + "\n"


def _age(created_at: int | None, now: float) -> str:
    if created_at is None:
        return "?"
    seconds = max(0, int(now - created_at))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


@app.command("show")
def show(
    ctx: typer.Context,
    file_id: Annotated[str, typer.Argument(help="File ID.")],
    as_json: Annotated[bool, typer.Option("--json", help="The file object as JSON.")] = False,
) -> None:
    """One file's details.

    Example: kimi files show file-abc123 --json
    """
    from kimi_cli.api import files
    from kimi_cli.documents import human_size

    file = files.retrieve(_client(state_of(ctx)), file_id)
    if as_json:
        print_json(file.to_json())
        return
    created = (
        time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(file.created_at))
        if file.created_at is not None
        else "?"
    )
    lines = [
        f"id        {file.id}",
        f"filename  {file.filename}",
        f"size      {human_size(file.bytes)} ({file.bytes:,} bytes)",
        f"purpose   {file.purpose}",
        f"created   {created}",
        f"status    {file.status or '?'}"
        + (f" ({file.status_details})" if file.status_details else ""),
    ]
    sys.stdout.write("\n".join(lines) + "\n")


@app.command("content")
def content(
    ctx: typer.Context,
    file_id: Annotated[str, typer.Argument(help="File ID.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to FILE instead of stdout.")
    ] = None,
) -> None:
    """A file's content: the extracted text of a document, a batch's results.

    Example: kimi files content file-abc123 -o report.txt
    """
    from kimi_cli.api import files

    client = _client(state_of(ctx))
    if output is None:
        files.download(client, file_id, sys.stdout.buffer)
        sys.stdout.flush()
        return
    written = _download_to(client, file_id, output)
    sys.stderr.write(f"kimi: wrote {written:,} bytes to {output}\n")


def _download_to(client: "KimiClient", file_id: str, output: Path) -> int:
    """Into a temporary file beside ``output``, renamed once complete: never half a file."""
    import contextlib
    import os
    import tempfile

    from kimi_cli.api import files

    try:
        fd, tmp = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".part")
    except OSError as exc:
        raise UsageError(f"cannot write {output} ({exc.strerror or exc})") from None
    try:
        with os.fdopen(fd, "wb") as out:
            written = files.download(client, file_id, out)
        os.replace(tmp, output)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return written


@app.command("rm")
def rm(
    ctx: typer.Context,
    file_ids: Annotated[list[str] | None, typer.Argument(help="File IDs.")] = None,
    every: Annotated[bool, typer.Option("--all", help="Every file (or every match).")] = False,
    purpose: Annotated[str | None, FilterPurposeOpt] = None,
    older_than: Annotated[
        int | None,
        typer.Option("--older-than", min=0, help="Only files older than DAYS.", metavar="DAYS"),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
) -> None:
    """Delete files: by ID, or every file matching --all/--purpose/--older-than (asks on a
    terminal; needs -y otherwise).

    Example: kimi files rm --purpose file-extract --older-than 30 -y
    """
    from kimi_cli.api import files

    selecting = every or purpose is not None or older_than is not None
    if bool(file_ids) == selecting:
        raise UsageError(
            "give file IDs, or --all / --purpose / --older-than to pick files",
            hint="see 'kimi files rm --help'",
        )
    state = state_of(ctx)
    client = _client(state)
    if file_ids:
        targets = list(dict.fromkeys(file_ids))
    else:
        targets = _matching(files.list_files(client), purpose, older_than)
        if not targets:
            sys.stderr.write("kimi: no files match\n")
            return
        _confirm(len(targets), yes)
    deleted: list[str] = []
    unknown: list[str] = []
    try:
        for file_id in targets:
            try:
                files.delete(client, file_id)
            except files.UnknownFileError:
                unknown.append(file_id)
                continue
            deleted.append(file_id)
    finally:
        # Gone from the account either way: the index must not send a chat to them.
        _index(state).forget(client.base_url, set(deleted) | set(unknown))
        if deleted:
            sys.stderr.write(f"kimi: deleted {len(deleted)} file{'s' * (len(deleted) != 1)}\n")
    if unknown:
        raise files.UnknownFileError(
            f"the account has no file {', '.join(unknown)}",
            hint="'kimi files list' shows the files there are",
        )


def _matching(found: "list[FileObject]", purpose: str | None, older_than: int | None) -> list[str]:
    cutoff = None if older_than is None else time.time() - older_than * 86400
    return [
        file.id
        for file in found
        if (purpose is None or file.purpose == purpose)
        and (cutoff is None or (file.created_at is not None and file.created_at < cutoff))
    ]


def _confirm(count: int, yes: bool) -> None:
    if yes:
        return
    what = f"{count} file{'s' * (count != 1)}"
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        raise UsageError(f"this deletes {what} from the account", hint="add -y to confirm")
    from kimi_cli.cli.prompts import agreed

    if not agreed(f"Delete {what} from the account?"):
        sys.stderr.write("kimi: nothing deleted\n")  # an answer, not a failure
        raise typer.Exit(0)
