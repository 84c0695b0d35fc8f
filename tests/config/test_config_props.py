"""Property-based tests for config parsing, writing and key masking."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kimi_cli.config import (
    CONFIG_KEYS,
    ConfigStore,
    GlobalOptions,
    coerce_value,
    mask_key,
    resolve_settings,
)
from kimi_cli.errors import ConfigError, UsageError

QUICK = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TOMLISH = st.text(
    alphabet=st.sampled_from([*list("abcxyz_-.=[]{}\"'#\n\t ,0123456789+:TZe"), "\\", "\x00", "é"]),
    max_size=80,
)
# printable text without surrogates: what a user could type into a model ID or comment
TEXT = st.text(alphabet=st.characters(exclude_categories=["Cs"]), min_size=1, max_size=40)


@contextmanager
def store_with(data: bytes | None = None) -> Iterator[ConfigStore]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "config.toml"
        if data is not None:
            path.write_bytes(data)
        yield ConfigStore(path)


def _load_or_config_error(data: bytes) -> None:
    with store_with(data) as store:
        try:
            loaded = store.load()
        except ConfigError as exc:
            assert str(store.path) in exc.message
        else:
            assert isinstance(loaded, dict)
        assert store.path.read_bytes() == data


@QUICK
@given(st.binary(max_size=200))
def test_arbitrary_bytes_load_or_raise_config_error(data: bytes) -> None:
    _load_or_config_error(data)


@QUICK
@given(TOMLISH)
def test_toml_like_text_loads_or_raises_config_error(text: str) -> None:
    _load_or_config_error(text.encode())


@QUICK
@given(st.sampled_from(CONFIG_KEYS), st.one_of(st.integers(), st.floats(), st.booleans(), TEXT))
def test_any_value_in_the_file_loads_resolves_or_raises_config_error(
    key: str, value: object
) -> None:
    text = f"{key} = {_toml_literal(value)}\n"
    with store_with(text.encode()) as store, suppress(ConfigError):
        resolve_settings(GlobalOptions(), {}, store, run_key_cmd=False)


def _toml_literal(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return {"inf": "inf", "-inf": "-inf", "nan": "nan"}.get(repr(value), repr(value))
    if isinstance(value, int):
        return str(value)
    import json

    return json.dumps(value)  # a JSON string is a valid TOML basic string


@QUICK
@given(st.sampled_from([*CONFIG_KEYS, "nope"]), st.text(max_size=30))
def test_coerce_value_raises_only_usage_error(key: str, text: str) -> None:
    with suppress(UsageError):
        coerce_value(key, text)


@QUICK
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "KIMI_TIMEOUT",
                "KIMI_MAX_RETRIES",
                "KIMI_REGION",
                "KIMI_BASE_URL",
                "KIMI_DEBUG",
                "KIMI_MODEL",
            ]
        ),
        TEXT,
    )
)
def test_any_environment_resolves_or_raises_config_error(env: dict[str, str]) -> None:
    with store_with() as store:
        try:
            got = resolve_settings(GlobalOptions(), env, store)
        except ConfigError:
            return
        assert got.timeout > 0 and got.max_retries >= 0
        assert got.base_url.lower().startswith(("http://", "https://"))
        assert not got.base_url.endswith("/")


@QUICK
@given(st.one_of(st.none(), st.text(max_size=120)))
def test_mask_key_reveals_at_most_ten_characters_and_half(key: str | None) -> None:
    shown = mask_key(key)
    if not key:
        assert shown == "(none)"
        return
    assert shown.count("…") == 1
    head, tail = shown.split("…")
    assert key.startswith(head) and key.endswith(tail)
    revealed = len(head) + len(tail)
    assert revealed <= 10 and revealed <= len(key) // 2


@QUICK
@given(TEXT.filter(lambda s: s.strip() != ""))
def test_model_ids_round_trip_through_the_file(model: str) -> None:
    with store_with(b"# keep this comment\n[other]\nx = 1\n") as store:
        store.set("model", model)
        assert ConfigStore(store.path).load()["model"] == model.strip()
        text = store.path.read_text(encoding="utf-8")
        assert text.startswith("# keep this comment\n") and "[other]\nx = 1\n" in text


@QUICK
@given(st.text(alphabet=st.characters(exclude_categories=["Cs", "Cc"]), max_size=40))
def test_comments_survive_writes(comment: str) -> None:
    original = f'#{comment}\nregion = "cn" #{comment}\n'
    with store_with(original.encode()) as store:
        try:
            store.load()
        except ConfigError:
            return  # e.g. a comment holding a character TOML forbids
        store.set("timeout", 5)
        store.unset("timeout")
        assert store.path.read_text(encoding="utf-8") == original
