"""Retirements: the table, the suggestion rule, the once-a-day warning, the 404 memory."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from kimi_cli.api.types import Model
from kimi_cli.catalog.cache import ModelCache
from kimi_cli.catalog.retirements import (
    RETIREMENTS,
    gone_error,
    retirement_line,
    retirement_notice,
    successor_for,
    warn_if_retiring,
)
from kimi_cli.errors import ExitCode

LIVE = [
    "kimi-k3.1-pro",
    "kimi-k3.1-pro-highspeed",
    "kimi-k3",
    "kimi-k2.7-code",
    "kimi-k2.7-code-highspeed",
    "kimi-k2.6",
]


def test_k2_series_reported_for_end_of_2026_without_a_named_successor() -> None:
    for model in ("kimi-k2.6", "kimi-k2.7-code", "kimi-k2.7-code-highspeed"):
        row = RETIREMENTS[model]
        assert row.on == date(2026, 12, 31) and row.successor is None
        assert row.certainty == "reported" and row.source.startswith("third-party")
    assert "kimi-k3.1-pro" not in RETIREMENTS


def test_suggestion_is_the_newest_live_model_of_the_same_kind() -> None:
    assert successor_for("kimi-k2.6", LIVE) == ("kimi-k3.1-pro", False)
    assert successor_for("kimi-k2.7-code-highspeed", LIVE) == ("kimi-k3.1-pro-highspeed", False)
    assert successor_for("kimi-k2.6", ["kimi-k3", "kimi-k2.7-code"]) == ("kimi-k3", False)
    assert successor_for("kimi-k2.6", ["kimi-k2.7-code"]) == (None, False)  # retiring too


def test_lines_say_reported_and_suggested() -> None:
    assert retirement_line("kimi-k2.6", LIVE) == (
        "reported to retire 2026-12-31; suggested: kimi-k3.1-pro"
    )
    assert retirement_line("kimi-k3", LIVE) is None
    notice = retirement_notice("kimi-k2.6", LIVE)
    assert notice is not None
    assert "not confirmed by Moonshot" in notice and "suggested" in notice
    assert notice.endswith("suggested (the newest live standard model): kimi-k3.1-pro")
    assert retirement_notice("kimi-k3.1-pro", LIVE) is None


def test_warning_within_14_days_once_a_day(tmp_path: Path) -> None:
    assert warn_if_retiring("kimi-k2.6", date(2026, 12, 16), tmp_path) is None  # 15 days
    first = warn_if_retiring("kimi-k2.6", date(2026, 12, 17), tmp_path, LIVE)
    assert first is not None and "in 14 days" in first
    assert first.endswith("kimi models use kimi-k3.1-pro")
    assert warn_if_retiring("kimi-k2.6", date(2026, 12, 17), tmp_path, LIVE) is None
    assert warn_if_retiring("kimi-k2.7-code", date(2026, 12, 17), tmp_path) is not None
    later = warn_if_retiring("kimi-k2.6", date(2027, 1, 2), tmp_path)
    assert later is not None and later.startswith("kimi-k2.6 was reported to retire")
    assert warn_if_retiring("kimi-k3", date(2026, 12, 31), tmp_path) is None


def test_404_names_the_suggestion_and_the_command() -> None:
    live = [m for m in LIVE if m != "kimi-k2.6"]
    error = gone_error("kimi-k2.6", live, said="Not found the model kimi-k2.6")
    assert error.exit_code == ExitCode.MODEL_NOT_FOUND
    assert "no longer served" in error.line()
    assert "suggested: kimi-k3.1-pro — kimi models use kimi-k3.1-pro" in error.line()
    later = gone_error("kimi-k2.6", live, earlier=True)
    assert "earlier run" in later.line() and "nothing was sent" in later.line()


def test_404_for_a_listed_model_does_not_claim_retirement() -> None:
    line = gone_error("kimi-k2.6", LIVE, said="Permission denied").line()
    assert "no longer served" not in line and "lists it" in line


def test_cache_forgets_a_404_model_and_says_why(tmp_path: Path) -> None:
    cache = ModelCache(tmp_path)
    url = "http://127.0.0.1:1/v1"
    cache.save(url, [Model(id=m) for m in LIVE])
    cache.forget(url, "kimi-k2.6", "404 on 2026-12-31")
    cached = cache.load(url)
    assert cached is not None and "kimi-k2.6" not in [m.id for m in cached.models]
    assert cache.forgotten(url, "kimi-k2.6") == "404 on 2026-12-31"
    assert cache.forgotten(url, "kimi-k3") is None
    cache.save(url, [Model(id=m) for m in LIVE])  # listed again: the note goes
    assert cache.forgotten(url, "kimi-k2.6") is None
    ModelCache(tmp_path / "new").forget(url, "x", "404")  # no cache yet: still remembered
    assert ModelCache(tmp_path / "new").forgotten(url, "x") == "404"


def test_models_page_lists_every_retirement() -> None:
    page = (Path(__file__).resolve().parents[2] / "docs" / "models.md").read_text("utf-8")
    for model, row in RETIREMENTS.items():
        line = next(x for x in page.splitlines() if x.startswith(f"| {model} |"))
        assert row.on.isoformat() in line and row.certainty in line


def test_the_day_before_says_one_day(tmp_path: Path) -> None:
    line = warn_if_retiring("kimi-k2.6", date(2026, 12, 30), tmp_path, LIVE)
    assert line is not None and "(in 1 day)" in line, line
