"""Issue: docs and first run. The documentation cannot drift: the CLI reference is generated
from --help and checked, every --help has an example, and every internal link resolves."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

import pytest

from kimi_cli.emulator import Emulator

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [ROOT / "README.md", *DOCS]
LINK = re.compile(r"(?<!\!)\[[^\]\n]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^(```|~~~).*?^\1\s*$", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`[^`\n]+`")


@cache
def generator() -> ModuleType:
    path = ROOT / "scripts" / "gen_cli_reference.py"
    spec = importlib.util.spec_from_file_location("gen_cli_reference", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow  # a process per command; .ci/run also runs gen_cli_reference.py --check
def test_cli_reference_is_up_to_date() -> None:
    diff = generator().check()
    assert not diff, (
        "docs/cli-reference.md is out of date: run 'python scripts/gen_cli_reference.py'\n" + diff
    )


def test_cli_reference_covers_every_command() -> None:
    text = (ROOT / "docs" / "cli-reference.md").read_text(encoding="utf-8")
    for path in generator().command_paths():
        assert f"## {' '.join(('kimi', *path))}\n" in text


def test_every_help_has_an_example() -> None:
    # Read from the reference, which the test above (and CI) keeps equal to every --help.
    text = (ROOT / "docs" / "cli-reference.md").read_text(encoding="utf-8")
    sections = {
        section.split("\n", 1)[0]: section for section in re.split(r"^## ", text, flags=re.M)
    }
    missing = [
        name
        for name in (" ".join(("kimi", *path)) for path in generator().command_paths())
        if "Example: " not in sections.get(name, "")
    ]
    assert not missing, f"add an 'Example: …' line to the help of: {', '.join(missing)}"


def prose(text: str) -> str:
    """The text without fenced blocks and code spans, where brackets are not links."""
    return CODE_SPAN.sub("", FENCE.sub("", text))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip().lower())  # a link: its text
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", text, re.MULTILINE):
        base = slug(heading)
        name, n = base, 0
        while name in found:  # GitHub numbers repeated headings
            n += 1
            name = f"{base}-{n}"
        found.add(name)
    return found


def internal_links(page: Path) -> list[str]:
    links = LINK.findall(prose(page.read_text(encoding="utf-8")))
    return [link for link in links if not re.match(r"[a-z][a-z0-9+.-]*:", link, re.IGNORECASE)]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_internal_link_points_to_an_existing_file(page: Path) -> None:
    broken = []
    for link in internal_links(page):
        target, _, anchor = link.partition("#")
        path = (page.parent / target).resolve() if target else page
        if not path.exists():
            broken.append(f"{link} (no file {path})")
        elif anchor and path.suffix == ".md" and anchor not in anchors(path):
            broken.append(f"{link} (no heading #{anchor} in {path.name})")
    assert not broken, f"{page.name}: broken links: {'; '.join(broken)}"


def test_the_documentation_index_lists_every_page() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [p.name for p in DOCS if f"(docs/{p.name})" not in readme]
    assert not missing, f"README.md's Documentation list lacks: {', '.join(missing)}"


def test_link_checker_sees_links_and_skips_code() -> None:
    page = "see [a](docs/a.md), [b](#b), [c](https://x.y), `[d](no.md)`, ![i](img.png)\n"
    page += "```\n[e](code.md)\n```\n"
    assert LINK.findall(prose(page)) == ["docs/a.md", "#b", "https://x.y"]
    assert slug("`kimi doctor [--json] [--no-chat]`") == "kimi-doctor---json---no-chat"
    assert (
        slug("Why `kimi config set api_key …` is refused")
        == "why-kimi-config-set-api_key--is-refused"
    )


# -- docs/usage.md: every `console` example runs against the emulator, as shown --------------

EMULATOR_URL = "http://127.0.0.1:8765/v1"  # what the docs say; the test's emulator stands in


def console_examples(text: str) -> list[tuple[str, list[str]]]:
    """(command, the stdout shown under it) for every ``$ `` line of every console block."""
    examples: list[tuple[str, list[str]]] = []
    for block in re.findall(r"^```console\n(.*?)^```", text, re.DOTALL | re.MULTILINE):
        for line in block.splitlines():
            if line.startswith("$ "):
                examples.append((line[2:], []))
            elif examples:
                examples[-1][1].append(line)
    return examples


def matches(expected: list[str], actual: list[str]) -> bool:
    """Line by line; '…' in an expected line stands for any text (IDs, times)."""
    if len(expected) != len(actual):
        return False
    for want, got in zip(expected, actual, strict=True):
        pattern = ".*".join(re.escape(part) for part in want.split("…"))
        if not re.fullmatch(pattern, got.rstrip()):
            return False
    return True


def test_console_examples_parse() -> None:
    text = "```console\n$ kimi chat hi\nhi\n$ kimi models  # exit 3\n```\n"
    assert console_examples(text) == [("kimi chat hi", ["hi"]), ("kimi models  # exit 3", [])]
    assert matches(["ab…  x"], ["ab12  x"]) and not matches(["ab…  x"], ["ab12  y"])


def usage_sections(text: str) -> list[tuple[str, str]]:
    """(heading, text) of each ``## `` section; a ``#`` line inside a code block is not one."""
    sections: list[tuple[str, str]] = [("", "")]
    fenced = False
    for line in text.splitlines(keepends=True):
        if line.startswith("```"):
            fenced = not fenced
        if not fenced and line.startswith("## "):
            sections.append((line[3:].strip(), ""))
        else:
            heading, body = sections[-1]
            sections[-1] = (heading, body + line)
    return [(heading, body) for heading, body in sections if console_examples(body)]


USAGE = usage_sections((ROOT / "docs" / "usage.md").read_text(encoding="utf-8"))
#: Lines that prepare the shell (variables, files, folders): later sections rely on them.
SETUP = re.compile(r"(export|printf|mkdir) ")


def test_usage_sections_split_outside_code_blocks() -> None:
    text = "## A\n```console\n$ kimi x\n## not a heading\n```\n## B\n"
    text += "## C\n```console\n$ y\n```\n"
    assert [heading for heading, _ in usage_sections(text)] == ["A", "C"]
    assert len(USAGE) > 8


@pytest.mark.slow  # some 40 bash and kimi processes: ~15 s of CPU
@pytest.mark.parametrize("index", range(len(USAGE)), ids=[slug(h)[:40] for h, _ in USAGE])
def test_usage_examples_run_against_the_emulator(
    index: int, tmp_path: Path, emulator: Emulator
) -> None:
    """Each section of docs/usage.md on its own (so that they run in parallel), after the
    set-up lines of the sections before it."""
    kimi = Path(sys.executable).parent / "kimi"
    bash = shutil.which("bash")
    if bash is None or not kimi.exists():
        pytest.skip("needs bash and the kimi console script next to this Python")
    earlier = [c for _, body in USAGE[:index] for c, _ in console_examples(body) if SETUP.match(c)]
    examples: list[tuple[str, list[str] | None]] = [(c, None) for c in earlier]
    examples += console_examples(USAGE[index][1])
    env = {**os.environ, "PATH": f"{kimi.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    failures = []
    for command, expected in examples:
        if command.startswith("kimi emulator"):
            continue  # already running
        if command.startswith("export "):
            for assignment in shlex.split(command)[1:]:
                name, _, value = assignment.partition("=")
                env[name] = value.replace(EMULATOR_URL, emulator.base_url)
            continue
        if "jq " in command and shutil.which("jq") is None:
            continue
        code = re.search(r"#\s*exit (\d+)", command)
        proc = subprocess.run(
            [bash, "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True
        )
        if expected is None:  # set-up of an earlier section
            assert proc.returncode == 0, (command, proc.stderr)
            continue
        wanted = int(code.group(1)) if code else 0
        if proc.returncode != wanted or not matches(expected, proc.stdout.splitlines()):
            failures.append(
                f"$ {command}\n  exit {proc.returncode} (want {wanted})\n"
                f"  stdout: {proc.stdout!r}\n  want:   {expected!r}\n  stderr: {proc.stderr!r}"
            )
    assert not failures, "docs/usage.md examples that do not work:\n" + "\n".join(failures)


# -- docs/troubleshooting.md quotes the messages users really get ------------------------------

QUOTED = [  # (what to run, extra environment, text that must be in the error line and the page)
    (("models",), {"KIMI_API_KEY": None}, "no API key — run 'kimi setup', or set KIMI_API_KEY"),
    (
        ("models",),
        {"KIMI_API_KEY": "sk-kimi-0123456789abcdef"},
        "this is a Kimi Code key (sk-kimi-…), which the Open Platform refuses — create an API key"
        " on platform.kimi.ai (global) or platform.kimi.com (cn)",
    ),
    (
        ("models",),
        {"KIMI_BASE_URL": "https://api.kimi.com/coding/v1"},
        "https://api.kimi.com/coding/v1 is the Kimi Code endpoint, which only coding agents may use"
        " — use the Open Platform: unset KIMI_BASE_URL (then region global or cn applies)",
    ),
    (
        ("models", "use", "moonshotai/kimi-k2.6"),
        {},
        "'moonshotai/kimi-k2.6' is a gateway (OpenRouter, Together, Groq or Vercel) ID, not a"
        " Moonshot API model ID — use 'kimi-k2.6': kimi models use kimi-k2.6",
    ),
    (
        ("models", "use", "kimi-k2-6"),
        {},
        "'kimi-k2-6' is not a model ID (the API spells it 'kimi-k2.6') — use 'kimi-k2.6'",
    ),
    (
        ("models", "use", "kimi-k2.5"),
        {},
        "'kimi-k2.5' was retired by Moonshot (2026-08-31) — suggested: kimi-k3.1-pro — kimi"
        " models use kimi-k3.1-pro",
    ),
    (
        ("models", "use", "kimi-for-coding"),
        {},
        "'kimi-for-coding' is a Kimi Code model ID; the Open Platform does not serve it",
    ),
    (
        ("chat", "--temperature", "0.3", "hi"),
        {"KIMI_MODEL": "kimi-k3.1-pro"},
        "kimi-k3.1-pro fixes its sampling on the server; it takes no temperature — drop"
        " --temperature",
    ),
    (
        ("models",),
        {"KIMI_TIMEOUT": "abc"},
        "invalid timeout 'abc' from env KIMI_TIMEOUT: expected a positive number of seconds — fix"
        " or unset KIMI_TIMEOUT",
    ),
    (
        ("models",),
        # TLS is set up only for an https:// API (an http:// one never reads the bundle)
        {"SSL_CERT_FILE": "/nonexistent/corp-ca.pem", "KIMI_BASE_URL": "https://127.0.0.1:9/v1"},
        "— point SSL_CERT_FILE at a PEM bundle (your organisation's CA) or unset it; 'kimi doctor'"
        " checks it",
    ),
    (
        ("models",),
        {"HTTPS_PROXY": "ftp://proxy:3128", "HTTP_PROXY": "ftp://proxy:3128"},
        "a proxy variable is not usable (Unknown scheme for proxy URL URL('ftp://proxy:3128')) —"
        " use an http://, https://, socks5:// or socks5h:// URL",
    ),
    (
        ("models",),
        {"HTTPS_PROXY": "http://proxy:notaport"},
        "HTTPS_PROXY is not a URL (Invalid port: 'notaport') — fix HTTPS_PROXY (http://HOST:PORT,"
        " or https://, socks5://, socks5h://) or unset it",
    ),
    (("chat", ""), {}, "nothing to send: the prompt and input are empty — give a prompt"),
    (("history", "show", "zzz"), {}, "no conversation 'zzz' — see 'kimi history list'"),
]


def test_troubleshooting_quotes_real_messages(
    configured: object, isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kimi_cli.emulator import Emulator
    from tests.helpers import invoke

    assert isinstance(configured, Emulator)
    page = (ROOT / "docs" / "troubleshooting.md").read_text(encoding="utf-8")
    monkeypatch.setenv("KIMI_MAX_RETRIES", "0")
    problems = []
    for args, env, text in QUOTED:
        line = invoke(*args, input="", env=env).error_lines
        if not line or text not in line[0]:
            problems.append(f"kimi {' '.join(args)} said {line!r}, not {text!r}")
        if text not in page:
            problems.append(f"troubleshooting.md does not quote {text!r}")
    # The base URL without /v1, a corrupt config and a corrupt history, against the emulator.
    root_url = configured.base_url.removesuffix("/v1")
    line = invoke("models", env={"KIMI_BASE_URL": root_url}).error_lines
    if not line or f"the base URL probably lacks /v1: try {root_url}/v1" not in line[0]:
        problems.append(f"a base URL without /v1 said {line!r}")
    for name, content, where, command in (
        ("config/config.toml", "region = cn\n", "config file", "models"),
        ("data/history.db", "not a database " * 100, "history database", "history"),
    ):
        path = isolated_env / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        line = invoke(command, *(["list"] if command == "history" else [])).error_lines
        path.unlink()
        fix = (
            "fix or remove it; it was left untouched"
            if where == "config file"
            else "(file is not a database) — move it aside; kimi will start a new one"
        )
        if not line or fix not in line[0] or where not in line[0] or fix not in page:
            problems.append(f"a corrupt {where} said {line!r}; the page must quote {fix!r}")
    assert not problems, "\n".join(problems)


def test_the_bug_report_template_asks_for_doctor_output_and_the_key_is_masked_in_it(
    configured: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.helpers import invoke

    template = (ROOT / ".github" / "ISSUE_TEMPLATE" / "bug_report.md").read_text(encoding="utf-8")
    assert "kimi doctor --json --no-chat" in template and "masked" in template
    key = "sk-emulator-0123456789abcdefghij"
    monkeypatch.setenv("KIMI_API_KEY", key)
    out = invoke("doctor", "--json", "--no-chat")
    assert '"checks"' in out.stdout
    assert key not in out.stdout + out.stderr and key[6:] not in out.stdout + out.stderr


# -- every KIMI_* variable the code names is documented, and every documented one is read ------

VARIABLE = re.compile(r"""["'](KIMI_[A-Z0-9_]+|MOONSHOT_[A-Z0-9_]+)["']""")


def code_variables() -> set[str]:
    """The variable names kimi_cli spells as strings (the emulator stands alone: not kimi's)."""
    found: set[str] = set()
    constants: set[str] = set()  # a module's constant named in __all__ is not a variable
    for path in (ROOT / "kimi_cli").rglob("*.py"):
        if "emulator" not in path.relative_to(ROOT).parts:
            text = path.read_text(encoding="utf-8")
            found.update(VARIABLE.findall(text))
            constants.update(re.findall(r"^([A-Z][A-Z0-9_]+) = ", text, re.MULTILINE))
    return found - constants


def test_every_variable_the_code_names_is_documented() -> None:
    text = "\n".join(page.read_text(encoding="utf-8") for page in PAGES)
    families = re.findall(r"`((?:KIMI|MOONSHOT)_[A-Z0-9_]*_)\*`", text)  # `KIMI_CLI_*`
    missing = sorted(
        name
        for name in code_variables()
        if name not in text and not any(name.startswith(family) for family in families)
    )
    assert not missing, f"document these variables (docs/configuration.md): {', '.join(missing)}"


def test_every_variable_of_the_configuration_page_is_read() -> None:
    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    table = page.split("## Environment variables", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`((?:KIMI|MOONSHOT)_[A-Z0-9_]+)`", table))
    assert "KIMI_API_KEY" in documented and "KIMI_CACHE_DIR" in documented
    unread = sorted(documented - code_variables())
    assert not unread, f"docs/configuration.md lists variables kimi never reads: {unread}"


# -- the JSON examples of the docs have the keys the commands print ----------------------------


def json_example(page: str, starts: str) -> object:
    """The first ```json block (or inline `{…}` after 'JSON: ') of ``page`` that starts so."""
    text = (ROOT / "docs" / page).read_text(encoding="utf-8")
    blocks = re.findall(r"^```json\n(.*?)^```", text, re.DOTALL | re.MULTILINE)
    blocks += re.findall(r"JSON: `(\{[^`]*\})`", text)
    found = [block for block in blocks if block.lstrip().startswith(starts)]
    assert found, f"{page} has no JSON example starting {starts!r}"
    lines = found[0].strip().splitlines()
    if len(lines) > 1 and all(line.startswith("{") for line in lines):  # JSON lines
        return json.loads(lines[0])
    return json.loads(found[0])


def test_json_examples_have_the_keys_the_commands_print(
    configured: Emulator, tmp_path: Path
) -> None:
    from tests.helpers import invoke

    def printed(*args: str) -> object:
        out = invoke(*args)
        assert out.code == 0, out.stderr
        return json.loads(
            out.stdout.splitlines()[0] if args[:2] == ("batch", "run") else out.stdout
        )

    (tmp_path / "contract.pdf").write_bytes(b"%PDF-1.4\n\xe2\xe3\xcf\xd3\n")
    (tmp_path / "q.txt").write_text("ECHO one\n", encoding="utf-8")
    doctor = printed("doctor", "--json", "--no-chat")
    files = printed("files", "upload", str(tmp_path / "contract.pdf"), "--json")
    cases = [  # (page, how its example starts, what the command printed)
        ("doctor.md", '{\n  "checks"', doctor),
        ("files.md", "[", files),
        ("doctor.md", '{"available"', printed("balance", "--json")),
        ("doctor.md", '{"model"', printed("tokens", "--json", str(tmp_path / "q.txt"))),
        (
            "batch.md",
            '{"custom_id": "line-1"',
            printed("batch", "run", "--lines", str(tmp_path / "q.txt")),
        ),
    ]
    for page, starts, real in cases:
        example = json_example(page, starts)
        if isinstance(example, list):
            assert isinstance(real, list) and real, (page, real)
            example, real = example[0], real[0]
        assert isinstance(example, dict) and isinstance(real, dict)
        assert list(example) == list(real), f"{page}: the example's keys differ from {list(real)}"
        for item in example.get("checks", []):  # doctor.md: each check as the doctor prints it
            assert list(item) == list(real["checks"][0]), f"{page}: a check's keys: {list(item)}"
