"""The exit-code table in docs/exit-codes.md and the ExitCode enum agree."""

from __future__ import annotations

import re
from pathlib import Path

from kimi_cli.batch.engine import InternalError
from kimi_cli.errors import (
    EXIT_CODE_MEANINGS,
    APIRequestError,
    AuthError,
    ConfigError,
    ExitCode,
    KimiError,
    ModelNotFoundError,
    QuotaError,
    StreamCutError,
    TemporaryError,
    UsageError,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "exit-codes.md"


def doc_rows() -> dict[int, tuple[str, str]]:
    rows = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\| (\d+) \| (\w+) \| (.+) \|$", line)
        if match:
            rows[int(match.group(1))] = (match.group(2), match.group(3))
    return rows


def test_doc_and_enum_agree() -> None:
    rows = doc_rows()
    assert set(rows) == {int(code) for code in ExitCode}
    for code in ExitCode:
        name, meaning = rows[int(code)]
        assert name == code.name
        assert meaning == EXIT_CODE_MEANINGS[code]


def test_every_error_class_knows_its_code() -> None:
    expected = {
        APIRequestError: 1,
        UsageError: 2,
        ConfigError: 3,
        AuthError: 4,
        ModelNotFoundError: 5,
        QuotaError: 6,
        InternalError: 70,
        TemporaryError: 75,
        StreamCutError: 75,
    }
    for cls, code in expected.items():
        assert cls("x").exit_code == code


def test_error_line_has_what_and_what_to_do_and_request_id() -> None:
    error = KimiError("the key was refused", hint="run kimi doctor", request_id="r-1")
    assert error.line() == "the key was refused — run kimi doctor (request id r-1)"


def test_the_error_tree_lists_every_class_with_its_code() -> None:
    import kimi_cli.errors as errors
    from kimi_cli.api.batches import UnknownBatchError
    from kimi_cli.api.files import FileLimitError, FileRefusedError, UnknownFileError
    from kimi_cli.api.formulas import FiberFailedError
    from kimi_cli.budget import BudgetExceededError
    from kimi_cli.conversation.search import SearchLimitError

    tree = errors.__doc__ or ""
    listed = dict(re.findall(r"── (\w+)\s+(\d+) ", tree))
    classes = {
        obj
        for obj in vars(errors).values()
        if isinstance(obj, type) and issubclass(obj, KimiError) and obj is not KimiError
    } | {
        BudgetExceededError,
        SearchLimitError,
        UnknownFileError,
        FileLimitError,
        FileRefusedError,
        UnknownBatchError,
        FiberFailedError,
        InternalError,
    }
    assert {cls.__name__ for cls in classes} == set(listed)
    for cls in classes:
        assert int(listed[cls.__name__]) == cls.exit_code, cls
