"""Documents at scale: memory of an upload, and the cost of a document the index knows.

    python bench/upload_scale.py [--rounds N] [--big-mb 50]

Against a ``kimi emulator`` the bench starts itself, in this environment as it is:

- **memory**: peak RSS (``ru_maxrss`` of the child, ``os.wait4``) of ``kimi files upload``
  and of a first ``kimi chat -f DOC "ECHO hi"`` (upload, extraction, chat) for a 1 MB and a
  50 MB document. The upload streams from disk, so the two should be within 15 MB;
- **cache hit**: wall time of ``kimi chat --no-stream "ECHO hi"`` against the same chat with
  ``-f`` of the 50 MB document already in the index (no upload, no content request: the
  emulator's counters are checked). The document may add at most 100 ms.

The documents are a PDF header, a phrase and zeros, so their extraction is a few lines and
the chat itself costs the same with or without them. Medians over the rounds (min–max); the
commands of a round run in alternating order. Prints a Markdown section for
``docs/performance.md`` and exits 1 when a limit is missed. POSIX only.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _env import base_env, current_interpreter, emulator
from _procs import Sample, run

MB = 1024 * 1024
RSS_LIMIT_MIB = 15.0
HIT_LIMIT_MS = 100.0
MODEL = "kimi-k2.6"


def make_document(path: Path, size: int, salt: int = 0) -> None:
    """A PDF-looking file of ``size`` bytes whose extraction is short."""
    head = b"%PDF-1.4\n\x00Penalty clause seven\x00" + salt.to_bytes(4, "big")
    with path.open("wb") as out:
        out.write(head)
        left = size - len(head)
        zeros = bytes(MB)
        while left > 0:
            out.write(zeros[: min(MB, left)])
            left -= MB


def lookup_ms(base_url: str, doc: Path, cache_dir: Path) -> list[float]:
    """The hit path itself, in this process: classify the -f file, find it in the index,
    read its text (what the whole-process figures above cannot resolve from their noise)."""
    import time

    from kimi_cli.api import KimiClient
    from kimi_cli.cli.chat_input import read_files
    from kimi_cli.documents import DocumentIndex
    from kimi_cli.documents.prepare import prepare

    client = KimiClient(base_url, "sk-emulator")
    index = DocumentIndex(cache_dir)
    taken = []
    for _ in range(20):
        start = time.perf_counter()
        _, _, local = read_files([doc])
        prepared = prepare(client, index, local[0])
        taken.append((time.perf_counter() - start) * 1000)
        if prepared.uploaded or prepared.extracted:
            raise SystemExit("bench: the in-process lookup missed the index")
    client.close()
    return taken


def _ok(sample: Sample, what: str, stderr: bytes) -> Sample:
    if sample.code != 0:
        raise SystemExit(f"bench: {what} failed ({sample.code}): {stderr.decode()[-500:]}")
    return sample


def _median(values: list[float]) -> tuple[float, float, float]:
    return statistics.median(values), min(values), max(values)


def _fmt(values: list[float], unit: str, digits: int = 1) -> str:
    mid, low, high = _median(values)
    return f"{mid:.{digits}f} {unit} ({low:.{digits}f}–{high:.{digits}f})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--big-mb", type=int, default=50)
    args = parser.parse_args()
    interpreter = current_interpreter()
    with tempfile.TemporaryDirectory(prefix="kimi-upload-bench-") as tmp_name:
        tmp = Path(tmp_name)
        env = base_env(tmp)
        with emulator(interpreter.python, env, tmp) as emu:
            env.update(KIMI_BASE_URL=emu.base_url, KIMI_API_KEY="sk-emulator", KIMI_MODEL=MODEL)
            kimi = [interpreter.python, "-m", "kimi_cli"]
            _ok(run([*kimi, "models"], env, tmp).sample, "kimi models", b"")
            rss: dict[tuple[str, int], list[float]] = {}
            for round_ in range(args.rounds):
                for mb in (1, args.big_mb) if round_ % 2 == 0 else (args.big_mb, 1):
                    doc = tmp / f"doc-{mb}mb-{round_}.pdf"
                    make_document(doc, mb * MB, salt=round_)
                    out = run([*kimi, "files", "upload", str(doc)], env, tmp)
                    rss.setdefault(("files upload", mb), []).append(
                        _ok(out.sample, "files upload", out.stderr).rss_mib
                    )
                    make_document(doc, mb * MB, salt=1000 + round_)  # new bytes: uploaded
                    out = run([*kimi, "chat", "--no-stream", "-f", str(doc), "ECHO hi"], env, tmp)
                    rss.setdefault(("chat -f (first)", mb), []).append(
                        _ok(out.sample, "chat -f", out.stderr).rss_mib
                    )
                    doc.unlink()

            big = tmp / "contract-big.pdf"
            make_document(big, args.big_mb * MB, salt=99)
            plain = [*kimi, "chat", "--no-stream", "ECHO hi"]
            with_doc = [*kimi, "chat", "--no-stream", "-f", str(big), "ECHO hi"]
            _ok(run(with_doc, env, tmp).sample, "first chat -f", b"")  # uploads once
            uploads = emu.requests("POST /v1/files")
            for warm in (plain, with_doc):
                _ok(run(warm, env, tmp).sample, "warm-up", b"")
            walls: dict[str, list[float]] = {"plain": [], "hit": [], "delta": []}
            for round_ in range(args.rounds * 2):
                order = (plain, with_doc) if round_ % 2 == 0 else (with_doc, plain)
                taken = {}
                for argv in order:
                    out = run(argv, env, tmp, capture=True)
                    _ok(out.sample, " ".join(argv[3:]), out.stderr)
                    if out.stdout != b"hi\n":
                        raise SystemExit(f"bench: unexpected answer {out.stdout!r}")
                    taken[argv is with_doc] = out.sample.wall * 1000
                walls["plain"].append(taken[False])
                walls["hit"].append(taken[True])
                walls["delta"].append(taken[True] - taken[False])
            in_process = tmp / "in-process-cache"
            from kimi_cli.api import KimiClient
            from kimi_cli.documents import DocumentIndex, LocalDocument
            from kimi_cli.documents.prepare import prepare

            with KimiClient(emu.base_url, "sk-emulator") as client:
                prepare(client, DocumentIndex(in_process), LocalDocument(big, big.name, 0))
            uploads += 1
            lookups = lookup_ms(emu.base_url, big, in_process)
            if emu.requests("POST /v1/files") != uploads:
                raise SystemExit("bench: a cache hit uploaded the document again")

    small_up, big_up = rss[("files upload", 1)], rss[("files upload", args.big_mb)]
    small_chat, big_chat = rss[("chat -f (first)", 1)], rss[("chat -f (first)", args.big_mb)]
    rss_gap = max(
        statistics.median(big_up) - statistics.median(small_up),
        statistics.median(big_chat) - statistics.median(small_chat),
    )
    hit_cost = statistics.median(walls["delta"])
    lines = [
        f"| command | 1 MB document | {args.big_mb} MB document |",
        "|---|---:|---:|",
        f"| `kimi files upload DOC` peak RSS | {_fmt(small_up, 'MiB')} | {_fmt(big_up, 'MiB')} |",
        f"| `kimi chat -f DOC` (upload, extraction, chat) peak RSS | {_fmt(small_chat, 'MiB')} "
        f"| {_fmt(big_chat, 'MiB')} |",
        "",
        '| one-shot chat (`--no-stream "ECHO hi"`) | wall time |',
        "|---|---:|",
        f"| without `-f` | {_fmt(walls['plain'], 'ms', 0)} |",
        f"| with `-f` of the {args.big_mb} MB document, already in the index | "
        f"{_fmt(walls['hit'], 'ms', 0)} |",
        f"| difference, round by round | {_fmt(walls['delta'], 'ms', 0)} |",
        f"| the hit itself in one process (classify, index, text) | {_fmt(lookups, 'ms', 2)} |",
        "",
        f"Peak RSS gap {rss_gap:.1f} MiB (limit {RSS_LIMIT_MIB:.0f}); the cache hit adds "
        f"{hit_cost:.0f} ms (limit {HIT_LIMIT_MS:.0f}). {args.rounds} rounds; "
        f"{interpreter.note}.",
    ]
    print("\n".join(lines))
    ok = rss_gap <= RSS_LIMIT_MIB and hit_cost <= HIT_LIMIT_MS
    print("PASS" if ok else "FAIL", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
