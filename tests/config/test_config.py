"""Settings resolution and the config file (kimi_cli.config, kimi_cli.config_store)."""

from __future__ import annotations

import os
import stat
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import platformdirs
import pytest

from kimi_cli.config import (
    CONFIG_KEYS,
    REGIONS_BY_NAME,
    ConfigStore,
    GlobalOptions,
    Settings,
    coerce_value,
    default_store,
    mask_key,
    parse_bool,
    region_url,
    resolve_settings,
    state_dirs,
)
from kimi_cli.config import key_cmd as key_cmd_module
from kimi_cli.config_store import Source
from kimi_cli.errors import ConfigError, ExitCode, KimiError, UsageError

REGION_URLS = {name: region.base_url for name, region in REGIONS_BY_NAME.items()}


def _s(source: Source | None) -> str | None:
    """A source as the user reads it."""
    return None if source is None else str(source)


POSIX = os.name == "posix"
posix_only = pytest.mark.skipif(not POSIX, reason="POSIX shell and permission bits")
GLOBAL_EMU = "http://127.0.0.1:7001/v1"
CN_EMU = "http://127.0.0.1:7002/v1"
EMU_ENV = {"KIMI_GLOBAL_BASE_URL": GLOBAL_EMU, "KIMI_CN_BASE_URL": CN_EMU}
SECRET = "sk-TopSecretKey0123456789abcdefghijklmnopqrstuvwxyz"

COMMENTED = """\
# My kimi settings.
region = "global"   # I live in Europe

# the model I like
model = "kimi-k2.6"  # verified by hand
timeout = 60

[extra]   # kimi does not know this table
note = "keep me"
"""


@pytest.fixture
def store(tmp_path: Path) -> ConfigStore:
    return ConfigStore(tmp_path / "cfg" / "config.toml")


def write(store: ConfigStore, text: str | bytes) -> bytes:
    store.path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode() if isinstance(text, str) else text
    store.path.write_bytes(data)
    return data


def resolve(store: ConfigStore, env: dict[str, str] | None = None, **options: Any) -> Settings:
    return resolve_settings(GlobalOptions(**options), env or {}, store)


def fresh(store: ConfigStore) -> dict[str, Any]:
    return ConfigStore(store.path).load()


# -- where requests go -----------------------------------------------------------------------


def test_defaults(store: ConfigStore) -> None:
    s = resolve(store)
    assert s.base_url == REGION_URLS["global"] == "https://api.moonshot.ai/v1"
    assert (_s(s.base_url_source), s.region, s.currency) == (
        "region global (default)",
        "global",
        "USD",
    )
    assert (s.timeout, s.max_retries, s.history, s.max_tokens) == (60.0, 2, True, None)
    assert (s.api_key, _s(s.api_key_source), s.model, _s(s.model_source)) == (
        None,
        None,
        None,
        None,
    )
    assert s.debug is False and s.saved_api_key_overridden is False
    facts = s.other_region_facts()
    assert facts is not None and (facts[0].name, facts[1]) == ("cn", "https://api.moonshot.cn/v1")
    assert set(CONFIG_KEYS) <= set(s.sources)
    assert str(s.sources["timeout"]) == "default" and str(s.sources["model"]) == "not set"


def test_region_url_follows_the_region_table_unless_a_variable_moves_it() -> None:
    assert region_url("cn", {}) == REGION_URLS["cn"]
    assert region_url("cn", {"KIMI_CN_BASE_URL": CN_EMU + "/"}) == CN_EMU
    assert region_url("global", {"KIMI_GLOBAL_BASE_URL": " "}) == REGION_URLS["global"]
    with pytest.raises(ConfigError, match="KIMI_GLOBAL_BASE_URL"):
        region_url("global", {"KIMI_GLOBAL_BASE_URL": "not a url"})
    with pytest.raises(ValueError, match="eu"):
        region_url("eu", {})


URL_CASES = [
    # (flag base, flag region, env base, env region, file base, file region) -> url, source, region
    (
        ("http://f/v1", "cn", "http://e/v1", "cn", "http://c/v1", "cn"),
        "http://f/v1",
        "flag --base-url",
        None,
    ),
    ((None, "cn", "http://e/v1", "global", "http://c/v1", "global"), CN_EMU, "flag --region", "cn"),
    (
        (None, None, "http://e/v1", "cn", "http://c/v1", "cn"),
        "http://e/v1",
        "env KIMI_BASE_URL",
        None,
    ),
    ((None, None, None, "cn", "http://c/v1", "global"), CN_EMU, "env KIMI_REGION", "cn"),
    ((None, None, None, None, "http://c/v1", "cn"), "http://c/v1", "config file base_url", None),
    ((None, None, None, None, None, "cn"), CN_EMU, "config file region", "cn"),
    ((None, None, None, None, None, None), GLOBAL_EMU, "region global (default)", "global"),
    ((None, "global", None, "cn", None, "cn"), GLOBAL_EMU, "flag --region", "global"),
]


@pytest.mark.parametrize(("given", "url", "source", "region"), URL_CASES)
def test_base_url_precedence(
    store: ConfigStore,
    given: tuple[str | None, ...],
    url: str,
    source: str,
    region: str | None,
) -> None:
    flag_base, flag_region, env_base, env_region, file_base, file_region = given
    env = dict(EMU_ENV)
    if env_base:
        env["KIMI_BASE_URL"] = env_base
    if env_region:
        env["KIMI_REGION"] = env_region
    values = {"base_url": file_base, "region": file_region}
    store.update({k: v for k, v in values.items() if v})
    s = resolve(ConfigStore(store.path), env, base_url=flag_base, region=flag_region)
    assert (s.base_url, _s(s.base_url_source), s.region) == (url, source, region)
    assert str(s.sources["base_url"]) == source
    if region is None:
        assert s.other_region_facts() is None
        assert str(s.sources["region"]).startswith("unused")
    else:
        facts = s.other_region_facts()
        assert facts is not None and facts[0].name == {"global": "cn", "cn": "global"}[region]
        assert s.currency == REGIONS_BY_NAME[region].currency
        assert str(s.sources["currency"]) == f"region {region}"


def test_trailing_slashes_removed(store: ConfigStore) -> None:
    assert resolve(store, base_url="http://h:1/v1/").base_url == "http://h:1/v1"
    assert resolve(store, {"KIMI_BASE_URL": "https://h/v1//"}).base_url == "https://h/v1"
    assert resolve(store, {"KIMI_GLOBAL_BASE_URL": GLOBAL_EMU + "/"}).base_url == GLOBAL_EMU


def test_region_is_case_insensitive(store: ConfigStore) -> None:
    assert resolve(store, {"KIMI_REGION": " CN "}).region == "cn"


def test_currency_for_explicit_urls(store: ConfigStore) -> None:
    s = resolve(store, base_url="http://127.0.0.1:8765/v1")
    assert s.currency is None and str(s.sources["currency"]).startswith("unknown")
    assert resolve(store, base_url="https://api.moonshot.cn/v1").currency == "CNY"
    assert resolve(store, base_url="https://api.moonshot.ai/v1").region is None
    store.set("currency", "eur")
    s = resolve(ConfigStore(store.path), base_url="http://127.0.0.1:8765/v1")
    assert (s.currency, str(s.sources["currency"])) == ("EUR", "config file")
    # the config's currency does not apply to a region: the region decides
    assert resolve(ConfigStore(store.path), region="cn").currency == "CNY"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://api.kimi.com/coding/v1", True),
        ("https://API.KIMI.COM/v1", True),
        ("https://api.moonshot.ai/v1", False),
        ("https://api.kimi.com.example.org/v1", False),
        ("http://127.0.0.1:8765/v1", False),
    ],
)
def test_kimi_code_endpoint(store: ConfigStore, url: str, expected: bool) -> None:
    assert resolve(store, base_url=url).is_kimi_code_endpoint() is expected


# -- the key -------------------------------------------------------------------------------


def test_key_precedence(store: ConfigStore) -> None:
    store.set_api_key("sk-from-file-0123456789")
    both = {"KIMI_API_KEY": "sk-kimi-env", "MOONSHOT_API_KEY": "sk-moonshot-env"}
    s = resolve(store, both, api_key="sk-from-flag")
    assert (s.api_key, _s(s.api_key_source)) == ("sk-from-flag", "flag")
    assert s.saved_api_key_overridden is False  # setup's own key is no surprise
    s = resolve(store, both)
    assert (s.api_key, _s(s.api_key_source)) == ("sk-kimi-env", "env KIMI_API_KEY")
    assert s.saved_api_key_overridden is True
    s = resolve(store, {"MOONSHOT_API_KEY": "sk-moonshot-env"})
    assert (s.api_key, _s(s.api_key_source)) == ("sk-moonshot-env", "env MOONSHOT_API_KEY")
    assert str(s.sources["api_key"]) == "env MOONSHOT_API_KEY"
    s = resolve(store, {"KIMI_API_KEY": "  "})  # empty variables count as unset
    assert (s.api_key, _s(s.api_key_source)) == ("sk-from-file-0123456789", "config file")
    assert s.saved_api_key_overridden is False


def test_env_key_without_saved_key_is_not_an_override(store: ConfigStore) -> None:
    assert resolve(store, {"KIMI_API_KEY": "sk-x"}).saved_api_key_overridden is False


@posix_only
def test_api_key_cmd_gives_the_key(store: ConfigStore) -> None:
    store.set("api_key_cmd", "printf 'sk-from-cmd\\n'")
    s = resolve(ConfigStore(store.path))
    assert (s.api_key, _s(s.api_key_source)) == ("sk-from-cmd", "api_key_cmd")
    assert s.api_key_cmd == "printf 'sk-from-cmd\\n'"
    assert str(s.sources["api_key_cmd"]) == "config file"


@posix_only
def test_api_key_cmd_is_not_run_when_a_higher_key_exists(
    store: ConfigStore, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    store.set("api_key_cmd", f"touch {marker}; printf sk-from-cmd")
    s = resolve(ConfigStore(store.path), {"KIMI_API_KEY": "sk-env"})
    assert s.api_key == "sk-env" and s.saved_api_key_overridden is True
    store.set_api_key("sk-in-file-0123")
    assert resolve(ConfigStore(store.path)).api_key == "sk-in-file-0123"
    s = resolve_settings(GlobalOptions(), {}, ConfigStore(store.path), run_key_cmd=False)
    assert s.api_key == "sk-in-file-0123"
    store.unset("api_key")
    s = resolve_settings(GlobalOptions(), {}, ConfigStore(store.path), run_key_cmd=False)
    assert (s.api_key, _s(s.api_key_source)) == (None, "api_key_cmd")
    assert str(s.sources["api_key"]) == "api_key_cmd (not run)"
    assert not marker.exists()


@posix_only
def test_api_key_cmd_failure(store: ConfigStore) -> None:
    store.set("api_key_cmd", "printf sk-leaked-by-stdout; echo 'vault is locked' >&2; exit 3")
    with pytest.raises(ConfigError) as info:
        resolve(ConfigStore(store.path))
    assert info.value.message == "api_key_cmd failed (exit 3): vault is locked"
    assert info.value.exit_code == ExitCode.CONFIG
    assert "sk-leaked" not in info.value.line()


@posix_only
def test_api_key_cmd_failure_never_echoes_its_stdout(store: ConfigStore) -> None:
    store.set("api_key_cmd", f"printf {SECRET}; echo 'got {SECRET}' >&2; exit 1")
    with pytest.raises(ConfigError) as info:
        resolve(ConfigStore(store.path))
    assert SECRET not in info.value.line() and "exit 1" in info.value.message
    store.set("api_key_cmd", "exit 3")
    with pytest.raises(ConfigError, match=r"^api_key_cmd failed \(exit 3\)$"):
        resolve(ConfigStore(store.path))


@posix_only
@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("true", "printed nothing"),
        ("cat", "printed nothing"),  # stdin is /dev/null: a piped prompt is never swallowed
        ("printf 'sk-one\\nsecond line\\n'", "more than one line"),
        ("printf 'sk-with space'", "invalid api_key from api_key_cmd"),
    ],
)
def test_api_key_cmd_bad_output(store: ConfigStore, command: str, message: str) -> None:
    store.set("api_key_cmd", command)
    with pytest.raises(ConfigError, match=message) as info:
        resolve(ConfigStore(store.path))
    assert "sk-" not in info.value.line()


@posix_only
def test_api_key_cmd_timeout(store: ConfigStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(key_cmd_module, "API_KEY_CMD_TIMEOUT", 0.3)
    store.set("api_key_cmd", "sleep 10")
    with pytest.raises(ConfigError, match=r"timed out after 0\.3 s"):
        resolve(ConfigStore(store.path))


@posix_only
@pytest.mark.parametrize(("sig", "code"), [("SIGINT", 130), ("SIGTERM", 143)])
def test_a_signal_while_api_key_cmd_runs_ends_it_and_kimi_at_once(
    tmp_path: Path, sig: str, code: int
) -> None:
    # A password manager waiting for its passphrase runs in a process group of its own, so
    # the terminal's Ctrl-C does not reach it: kimi must end it, and not wait for it.
    import signal
    import subprocess
    import time

    pid_file = tmp_path / "pid"
    home = tmp_path / "state"
    env = {**os.environ, "KIMI_CONFIG_DIR": str(home), "KIMI_BASE_URL": "http://127.0.0.1:9/v1"}
    (home).mkdir()
    (home / "config.toml").write_text(
        f'api_key_cmd = "echo $$ > {pid_file}; exec sleep 30"\n', encoding="utf-8"
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "kimi_cli", "models"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    deadline = time.monotonic() + 15
    while not (pid_file.exists() and pid_file.read_text().strip()):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    command_pid = int(pid_file.read_text())
    started = time.monotonic()
    proc.send_signal(getattr(signal, sig))
    _, stderr = proc.communicate(timeout=20)
    assert proc.returncode == code, stderr
    assert time.monotonic() - started < 3  # not the 30 s of the command
    assert b"Traceback" not in stderr
    for _ in range(50):  # the command is gone, not left behind
        try:
            os.kill(command_pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        os.kill(command_pid, signal.SIGKILL)
        raise AssertionError("api_key_cmd was left running")


@posix_only
def test_ctrl_c_while_the_command_starts_still_ends_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Ctrl-C lands after the command has started but before Popen has returned it (a busy
    # machine): it is acted on once the command can be ended, not where nobody can.
    import signal
    import subprocess
    import time

    real = subprocess.Popen
    started: list[subprocess.Popen[bytes]] = []

    def popen_then_ctrl_c(*args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
        proc = real(*args, **kwargs)
        started.append(proc)
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.1)  # the handler runs here, inside what was Popen
        return proc

    monkeypatch.setattr(subprocess, "Popen", popen_then_ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        key_cmd_module.run_api_key_cmd("exec sleep 30")
    (proc,) = started
    assert proc.wait(timeout=5) == -signal.SIGKILL  # ended, not left running for 30 s


def test_key_with_whitespace_is_refused_without_showing_it(store: ConfigStore) -> None:
    with pytest.raises(ConfigError) as info:
        resolve(store, {"KIMI_API_KEY": "sk-secret part"})
    assert "KIMI_API_KEY" in info.value.line() and "secret" not in info.value.line()


# -- the other settings ------------------------------------------------------------------


def test_model_precedence(store: ConfigStore) -> None:
    store.set("model", "kimi-from-file")
    s = ConfigStore(store.path)
    got = resolve(s, {"KIMI_MODEL": "kimi-from-env"}, model="kimi-from-flag")
    assert (got.model, _s(got.model_source)) == ("kimi-from-flag", "flag --model")
    got = resolve(s, {"KIMI_MODEL": "kimi-from-env"})
    assert (got.model, _s(got.model_source)) == ("kimi-from-env", "env KIMI_MODEL")
    got = resolve(s)
    assert (got.model, _s(got.model_source)) == ("kimi-from-file", "config file")


def test_network_settings_precedence(store: ConfigStore) -> None:
    store.update({"timeout": 12, "max_retries": 5, "history": False, "max_tokens": 2048})
    s = ConfigStore(store.path)
    got = resolve(s)
    assert (got.timeout, got.max_retries, got.history, got.max_tokens) == (12.0, 5, False, 2048)
    assert isinstance(got.timeout, float)
    assert str(got.sources["timeout"]) == str(got.sources["max_tokens"]) == "config file"
    got = resolve(s, {"KIMI_TIMEOUT": "7.5", "KIMI_MAX_RETRIES": "0"})
    assert (got.timeout, got.max_retries) == (7.5, 0)
    assert str(got.sources["max_retries"]) == "env KIMI_MAX_RETRIES"
    got = resolve(s, {"KIMI_TIMEOUT": "7.5"}, timeout=3.0)
    assert (got.timeout, str(got.sources["timeout"])) == (3.0, "flag --timeout")


@pytest.mark.parametrize(
    ("env", "flag", "debug", "source"),
    [
        ({}, False, False, "default"),
        ({}, True, True, "flag --debug"),
        ({"KIMI_DEBUG": "1"}, False, True, "env KIMI_DEBUG"),
        ({"KIMI_DEBUG": "Yes"}, False, True, "env KIMI_DEBUG"),
        ({"KIMI_DEBUG": "on"}, False, True, "env KIMI_DEBUG"),
        ({"KIMI_DEBUG": "true"}, False, True, "env KIMI_DEBUG"),
        ({"KIMI_DEBUG": "0"}, False, False, "env KIMI_DEBUG"),
        ({"KIMI_DEBUG": ""}, False, False, "default"),
    ],
)
def test_debug(
    store: ConfigStore, env: dict[str, str], flag: bool, debug: bool, source: str
) -> None:
    got = resolve(store, env, debug=flag)
    assert (got.debug, str(got.sources["debug"])) == (debug, source)


INVALID = [
    # (env, file values, options, error class, words the message must hold)
    (
        {"KIMI_REGION": "eu"},
        {},
        {},
        ConfigError,
        ["region", "'eu'", "env KIMI_REGION", "global or cn"],
    ),
    ({}, {}, {"region": "eu"}, UsageError, ["region", "'eu'", "flag --region"]),
    ({}, {}, {"base_url": "api.moonshot.ai"}, UsageError, ["base_url", "flag --base-url"]),
    (
        {"KIMI_BASE_URL": "ftp://x"},
        {},
        {},
        ConfigError,
        ["base_url", "'ftp://x'", "env KIMI_BASE_URL"],
    ),
    ({"KIMI_TIMEOUT": "abc"}, {}, {}, ConfigError, ["timeout", "'abc'", "env KIMI_TIMEOUT"]),
    ({"KIMI_TIMEOUT": "0"}, {}, {}, ConfigError, ["timeout", "'0'", "positive"]),
    ({"KIMI_TIMEOUT": "-1"}, {}, {}, ConfigError, ["timeout", "'-1'"]),
    ({"KIMI_TIMEOUT": "nan"}, {}, {}, ConfigError, ["timeout", "'nan'"]),
    ({"KIMI_TIMEOUT": "inf"}, {}, {}, ConfigError, ["timeout", "'inf'"]),
    ({}, {}, {"timeout": 0.0}, UsageError, ["timeout", "flag --timeout"]),
    ({}, {}, {"timeout": -5.0}, UsageError, ["timeout", "flag --timeout"]),
    (
        {"KIMI_MAX_RETRIES": "-1"},
        {},
        {},
        ConfigError,
        ["max_retries", "'-1'", "env KIMI_MAX_RETRIES"],
    ),
    ({"KIMI_MAX_RETRIES": "1.5"}, {}, {}, ConfigError, ["max_retries", "'1.5'"]),
    ({}, {"region": "eu"}, {}, ConfigError, ["region", "'eu'", "config file region"]),
    ({}, {"timeout": 0}, {}, ConfigError, ["timeout", "config file", "kimi config set timeout"]),
    ({}, {"max_retries": -2}, {}, ConfigError, ["max_retries", "-2", "config file"]),
    ({}, {"max_tokens": 0}, {}, ConfigError, ["max_tokens", "config file"]),
    ({}, {"base_url": "localhost:8765"}, {}, ConfigError, ["base_url", "config file base_url"]),
    ({}, {"currency": "euro"}, {"base_url": "http://h/v1"}, ConfigError, ["currency", "'euro'"]),
]


@pytest.mark.parametrize(("env", "file", "options", "error", "words"), INVALID)
def test_invalid_values_name_setting_value_and_source(
    store: ConfigStore,
    env: dict[str, str],
    file: dict[str, Any],
    options: dict[str, Any],
    error: type[KimiError],
    words: list[str],
) -> None:
    if file:
        write(store, "".join(f"{k} = {v!r}\n".replace("'", '"') for k, v in file.items()))
    with pytest.raises(KimiError) as info:
        resolve(store, env, **options)
    assert type(info.value) is error
    assert info.value.exit_code == (ExitCode.USAGE if error is UsageError else ExitCode.CONFIG)
    for word in words:
        assert word in info.value.line()


def test_only_the_winning_value_is_validated(store: ConfigStore) -> None:
    write(store, 'region = "eu"\ntimeout = -1\n')
    got = resolve(store, {"KIMI_REGION": "cn", "KIMI_TIMEOUT": "5"})
    assert (got.region, got.timeout) == ("cn", 5.0)
    with pytest.raises(UsageError, match="flag --region"):  # a flag is checked even when it loses
        resolve(store, base_url="http://h/v1", region="eu")


# -- paths -------------------------------------------------------------------------------


def test_state_dirs(tmp_path: Path) -> None:
    env = {
        "KIMI_CONFIG_DIR": str(tmp_path / "c"),
        "KIMI_DATA_DIR": str(tmp_path / "d"),
        "KIMI_CACHE_DIR": str(tmp_path / "k"),
    }
    assert state_dirs(env) == (tmp_path / "c", tmp_path / "d", tmp_path / "k")
    assert state_dirs({}) == (
        platformdirs.user_config_path("kimi", appauthor=False),
        platformdirs.user_data_path("kimi", appauthor=False),
        platformdirs.user_cache_path("kimi", appauthor=False),
    )
    assert state_dirs({"KIMI_CONFIG_DIR": "~/x"})[0] == Path("~/x").expanduser()
    assert default_store(env).path == tmp_path / "c" / "config.toml"
    assert not (tmp_path / "c").exists()  # nothing touches the disk before a write


def test_settings_paths(tmp_path: Path) -> None:
    env = {"KIMI_CONFIG_DIR": str(tmp_path / "c"), "KIMI_DATA_DIR": str(tmp_path / "d")}
    env["KIMI_CACHE_DIR"] = str(tmp_path / "k")
    got = resolve_settings(GlobalOptions(), env, default_store(env))
    assert got.config_path == tmp_path / "c" / "config.toml"
    assert (got.config_dir, got.data_dir, got.cache_dir) == (
        tmp_path / "c",
        tmp_path / "d",
        tmp_path / "k",
    )
    assert got.roles_dir == tmp_path / "c" / "roles"


def test_key_is_hidden_from_repr_and_describe(store: ConfigStore) -> None:
    got = resolve(store, {"KIMI_API_KEY": SECRET}, api_key=None)
    assert SECRET not in repr(got) and SECRET[3:12] not in repr(got)
    assert SECRET not in repr(GlobalOptions(api_key=SECRET))
    shown = got.describe()
    assert list(shown) == list(CONFIG_KEYS)
    assert shown["api_key"] == {"value": mask_key(SECRET), "source": "env KIMI_API_KEY"}
    assert shown["region"] == {"value": "global", "source": "region global (default)"}


# -- the store: reading --------------------------------------------------------------------


def test_missing_file_is_empty_and_untouched(store: ConfigStore) -> None:
    assert store.load() == {} and store.get("model") is None
    assert store.verified() is None and store.unknown_keys() == []
    assert not store.path.parent.exists()
    assert store.unset("model") is False
    assert not store.path.parent.exists()


def test_load_is_cached(store: ConfigStore) -> None:
    write(store, 'model = "a"\n')
    assert store.get("model") == "a"
    write(store, 'model = "b"\n')
    assert store.get("model") == "a"
    assert ConfigStore(store.path).get("model") == "b"


def test_utf8_bom_is_accepted(store: ConfigStore) -> None:
    write(store, b'\xef\xbb\xbfmodel = "m"\n')
    assert store.get("model") == "m"


def test_unknown_keys_are_reported(store: ConfigStore) -> None:
    write(store, 'api-key = "x"\nmodel = "m"\n[verified]\nmodel = "m"\n')
    assert store.unknown_keys() == ["api-key"]


CORRUPT = [
    (b'region = "global\n', "line 1"),
    (b"model = kimi-k2\n", "line 1: invalid value"),
    (b"a = 1\n\n\n[broken\n", "line 4"),
    (b'model = "\xff\xfe"\n', "not UTF-8 at byte 9"),
    (b"x = [" * 5000, "not valid TOML"),
]


def _write_attempts(store: ConfigStore) -> list[Any]:
    when = datetime(2026, 11, 1, tzinfo=UTC)
    return [
        lambda: store.set("model", "kimi-k3"),
        lambda: store.set_api_key("sk-whatever-123456"),
        lambda: store.unset("region"),
        lambda: store.update({"region": "cn"}, remove=["model"]),
        lambda: store.save_verified_model("m", base_url="http://h/v1", verified_at=when),
    ]


@pytest.mark.parametrize(("data", "words"), CORRUPT)
def test_corrupt_file_is_reported_and_never_modified(
    store: ConfigStore, data: bytes, words: str
) -> None:
    write(store, data)
    with pytest.raises(ConfigError) as info:
        store.load()
    err = info.value
    assert str(store.path) in err.message and "is not valid TOML" in err.message
    assert words in err.message
    assert err.hint == "fix or remove it; it was left untouched"
    for attempt in _write_attempts(store):
        with pytest.raises(ConfigError, match="is not valid TOML"):
            attempt()
    with pytest.raises(ConfigError):
        resolve(store)
    assert store.path.read_bytes() == data
    assert os.listdir(store.path.parent) == ["config.toml"]


def test_corrupt_message_never_holds_the_key(store: ConfigStore) -> None:
    for text in (
        f"api_key = {SECRET}\n",
        f"{SECRET}\n",
        f'api_key = "{SECRET}"\n[{SECRET}]\n[{SECRET}]\n',
    ):
        write(store, text)
        with pytest.raises(ConfigError) as info:
            ConfigStore(store.path).load()
        assert SECRET[:16] not in info.value.line() and SECRET[-12:] not in info.value.line()


def test_unreadable_file(store: ConfigStore) -> None:
    store.path.mkdir(parents=True)  # a directory where the file should be
    with pytest.raises(ConfigError, match="cannot be read") as info:
        store.load()
    assert str(store.path) in info.value.message
    assert info.value.hint == f"{store.path} is a directory: move it away"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("region = 5\n", "region"),
        ('history = "yes"\n', "history"),
        ("timeout = true\n", "timeout"),
        ('timeout = "30"\n', "timeout"),
        ("max_retries = 1.5\n", "max_retries"),
        ("api_key = 12345\n", "api_key"),
        ('model = ["a"]\n', "model"),
        ("verified = 3\n", "[verified]"),
        ("[verified]\nmodel = 1\n", "[verified]"),
    ],
)
def test_wrong_type_names_key_and_path(store: ConfigStore, text: str, key: str) -> None:
    write(store, text)
    with pytest.raises(ConfigError) as info:
        resolve(store)
    assert key in info.value.message and str(store.path) in info.value.message
    assert info.value.exit_code == ExitCode.CONFIG


@pytest.mark.parametrize(
    ("text", "env"),
    [
        ("region = 5\n", {"KIMI_REGION": "cn"}),
        ('timeout = "abc"\n', {"KIMI_TIMEOUT": "7"}),
        ("model = 12\n", {"KIMI_MODEL": "kimi-k3"}),
        ('base_url = "not a url"\n', {"KIMI_BASE_URL": GLOBAL_EMU}),
    ],
)
def test_a_variable_stands_in_for_a_bad_value_in_the_file(
    store: ConfigStore, text: str, env: dict[str, str]
) -> None:
    write(store, text)
    resolve(store, env)  # the file's value loses, so it is not held against the run


def test_a_write_can_fix_a_wrong_type(store: ConfigStore) -> None:
    write(store, "# keep\nregion = 5\n")
    store.set("region", "cn")
    assert fresh(store)["region"] == "cn"
    assert store.path.read_text().startswith("# keep\n")
    write(store, "region = 5\n")
    assert ConfigStore(store.path).unset("region") is True
    assert fresh(store) == {}


# -- the store: writing ---------------------------------------------------------------------


def test_set_and_reload(store: ConfigStore) -> None:
    store.set("region", "cn")
    store.set("timeout", 12.5)
    store.set("history", False)
    store.set("max_retries", 0)
    assert fresh(store) == {"region": "cn", "timeout": 12.5, "history": False, "max_retries": 0}
    assert store.get("region") == "cn"  # the cache follows writes


@posix_only
def test_new_file_is_0600_in_a_0700_dir(tmp_path: Path) -> None:
    store = ConfigStore(tmp_path / "a" / "b" / "config.toml")
    old = os.umask(0)
    try:
        store.set("model", "m")
    finally:
        os.umask(old)
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700


@posix_only
def test_rewrite_tightens_an_open_file_and_leaves_an_existing_dir(store: ConfigStore) -> None:
    write(store, 'model = "m"\n')
    store.path.chmod(0o644)
    store.path.parent.chmod(0o755)
    store.set("region", "cn")
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o755


def test_comments_order_and_formatting_survive(store: ConfigStore) -> None:
    write(store, COMMENTED)
    store.set("model", "kimi-k3")
    store.unset("timeout")
    store.update({"max_retries": 4, "region": "cn"}, remove=["history"])
    assert (
        store.path.read_text()
        == """\
# My kimi settings.
region = "cn"   # I live in Europe

# the model I like
model = "kimi-k3"  # verified by hand
max_retries = 4

[extra]   # kimi does not know this table
note = "keep me"
"""
    )


def test_new_file_starts_with_a_header(store: ConfigStore) -> None:
    store.set("region", "cn")
    text = store.path.read_text()
    assert text.startswith("# kimi configuration") and text.endswith('region = "cn"\n')


def test_writes_leave_no_temp_files(store: ConfigStore) -> None:
    for attempt in _write_attempts(store):
        attempt()
    assert os.listdir(store.path.parent) == ["config.toml"]


def test_failed_replace_keeps_the_old_file(
    store: ConfigStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = write(store, COMMENTED)

    def boom(src: object, dst: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(ConfigError, match="Permission denied") as info:
        store.set("model", "x")
    assert "check permissions" in info.value.line()
    assert store.path.read_bytes() == data
    assert os.listdir(store.path.parent) == ["config.toml"]


def test_unwritable_config_dir(tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("a file, not a directory")
    store = ConfigStore(tmp_path / "blocker" / "kimi" / "config.toml")
    with pytest.raises(ConfigError) as info:
        store.set("model", "m")
    assert str(store.path) in info.value.message
    assert "is a file, not a directory" in (info.value.hint or "")


@pytest.mark.skipif(not POSIX or os.geteuid() == 0, reason="permission bits; root ignores them")
def test_read_only_config_dir(store: ConfigStore) -> None:
    data = write(store, 'model = "m"\n')
    store.path.parent.chmod(0o500)
    try:
        with pytest.raises(ConfigError) as info:
            store.set("model", "x")
        assert "check permissions" in info.value.line()
    finally:
        store.path.parent.chmod(0o700)
    assert store.path.read_bytes() == data


@posix_only
def test_a_symlinked_config_file_stays_a_symlink(store: ConfigStore, tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "kimi.toml"
    real.parent.mkdir()
    real.write_text('# mine\nmodel = "m"\n')
    store.path.parent.mkdir(parents=True)
    store.path.symlink_to(real)
    store.set("region", "cn")
    assert store.path.is_symlink()
    assert real.read_text() == '# mine\nmodel = "m"\nregion = "cn"\n'


def test_set_api_key_is_refused(store: ConfigStore) -> None:
    for call in (lambda: store.set("api_key", SECRET), lambda: coerce_value("api_key", SECRET)):
        with pytest.raises(UsageError) as info:
            call()
        assert info.value.message.startswith("refusing to set api_key on the command line")
        assert "shell history" in info.value.message and "`ps`" in info.value.message
        assert info.value.hint == "run 'kimi setup --key-stdin' and pipe the key in"
        assert SECRET not in info.value.line()
    assert not store.path.exists()


def test_set_api_key_for_setup(store: ConfigStore) -> None:
    store.set_api_key(f"  {SECRET}\n")
    assert fresh(store)["api_key"] == SECRET
    assert _s(resolve(ConfigStore(store.path)).api_key_source) == "config file"
    with pytest.raises(UsageError) as info:
        store.set_api_key("sk-secret with-space")
    assert "secret" not in info.value.line()
    with pytest.raises(UsageError):
        store.update({"api_key": ""})
    assert store.unset("api_key") is True and "api_key" not in fresh(store)


def test_set_validates_key_and_value(store: ConfigStore) -> None:
    with pytest.raises(UsageError, match="unknown config key 'regoin'") as info:
        store.set("regoin", "cn")
    assert "region" in (info.value.hint or "")
    with pytest.raises(UsageError, match="unknown config key"):
        store.unset("verified")
    for key, value in [("timeout", "30"), ("region", "eu"), ("history", 1), ("max_tokens", 0)]:
        with pytest.raises(UsageError, match=f"invalid {key}"):
            store.set(key, value)
    assert not store.path.exists()


def test_unset(store: ConfigStore) -> None:
    store.update({"region": "cn", "model": "m"})
    assert store.unset("region") is True
    assert store.unset("region") is False
    assert fresh(store) == {"model": "m"}


def test_update_is_one_write(store: ConfigStore, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[object] = []
    real = os.replace

    def counting(src: str, dst: str) -> None:
        calls.append(dst)
        real(src, dst)

    monkeypatch.setattr(os, "replace", counting)
    when = datetime(2026, 11, 2, 10, 30, tzinfo=UTC)
    verified = {"model": "kimi-k3", "base_url": CN_EMU, "at": when}
    store.update(
        {"region": "cn", "api_key": "sk-setup-0123456789", "model": "kimi-k3", "verified": verified}
    )
    assert len(calls) == 1
    assert fresh(store)["verified"] == {
        "model": "kimi-k3",
        "base_url": CN_EMU,
        "at": "2026-11-02T10:30:00+00:00",
    }


def test_save_verified_model(store: ConfigStore) -> None:
    write(store, '# top\nmodel = "old"\n\n[verified]  # written by kimi\nmodel = "old"\nx = 1\n')
    when = datetime(2026, 10, 20, 8, 0, 5, tzinfo=UTC)
    store.save_verified_model(
        "kimi-k3.1-pro", base_url="https://api.moonshot.ai/v1/", verified_at=when
    )
    data = fresh(store)
    assert data["model"] == "kimi-k3.1-pro"
    assert data["verified"] == {
        "model": "kimi-k3.1-pro",
        "base_url": "https://api.moonshot.ai/v1",
        "at": "2026-10-20T08:00:05+00:00",
    }
    assert "[verified]  # written by kimi" in store.path.read_text()
    got = ConfigStore(store.path).verified()
    assert got is not None and got.at == when and got.base_url == "https://api.moonshot.ai/v1"


def test_changing_the_model_drops_a_stale_verification(store: ConfigStore) -> None:
    when = datetime(2026, 10, 20, tzinfo=UTC)
    store.save_verified_model("a", base_url="http://h/v1", verified_at=when)
    store.set("model", "a")
    assert "verified" in fresh(store)
    store.set("model", "b")
    assert "verified" not in fresh(store)
    store.save_verified_model("b", base_url="http://h/v1", verified_at=when)
    store.unset("model")
    assert fresh(store) == {}


def test_verified_tolerates_a_hand_edited_date(store: ConfigStore) -> None:
    write(store, '[verified]\nmodel = "m"\nat = "last tuesday"\n')
    got = store.verified()
    assert got is not None and (got.model, got.at, got.base_url) == ("m", None, None)
    write(store, '[verified]\nmodel = "m"\nat = 2026-10-01T00:00:00Z\n')
    got = ConfigStore(store.path).verified()
    assert got is not None and got.at == datetime(2026, 10, 1, tzinfo=UTC)


# -- text values, booleans, masking ----------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "text", "value"),
    [
        ("history", "yes", True),
        ("history", "OFF", False),
        ("timeout", "2.5", 2.5),
        ("timeout", "10", 10.0),
        ("max_retries", "0", 0),
        ("max_tokens", " 4096 ", 4096),
        ("region", "CN", "cn"),
        ("base_url", "http://127.0.0.1:8765/v1/", "http://127.0.0.1:8765/v1"),
        ("currency", "usd", "USD"),
        ("model", " kimi-k3 ", "kimi-k3"),
        ("api_key_cmd", "pass show kimi | head -n 1", "pass show kimi | head -n 1"),
    ],
)
def test_coerce_value(key: str, text: str, value: Any) -> None:
    got = coerce_value(key, text)
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize(
    ("key", "text"),
    [
        ("history", "maybe"),
        ("timeout", "0"),
        ("timeout", "soon"),
        ("max_retries", "-1"),
        ("max_retries", "2.0"),
        ("max_tokens", "0"),
        ("region", "eu"),
        ("base_url", "api.moonshot.ai/v1"),
        ("base_url", "https://"),
        ("currency", "US"),
        ("currency", "US1"),
        ("model", "  "),
        ("api_key_cmd", ""),
        ("colour", "red"),
    ],
)
def test_coerce_value_refuses(key: str, text: str) -> None:
    with pytest.raises(UsageError) as info:
        coerce_value(key, text)
    assert key in info.value.line() and info.value.exit_code == ExitCode.USAGE


def test_parse_bool() -> None:
    assert all(parse_bool(t) for t in ("1", "true", "TRUE", " yes ", "on"))
    assert not any(parse_bool(t) for t in ("0", "false", "No", "off"))
    with pytest.raises(UsageError, match="not a boolean"):
        parse_bool("2")


@pytest.mark.parametrize(
    ("key", "shown"),
    [
        (None, "(none)"),
        ("", "(none)"),
        ("a", "…"),
        ("sk", "s…"),
        ("sk-emulator", "sk…"),  # 11 characters
        ("sk-emulator1", "sk…tor1"),  # 12: never more than half
        ("sk-emu-0123456789", "sk-e…6789"),
        ("sk-emulator-0123456789", "sk-emu…6789"),
        ("sk-kimi-" + "x" * 40 + "wxyz", "sk-kim…wxyz"),
        (SECRET, "sk-Top…wxyz"),
    ],
)
def test_mask_key(key: str | None, shown: str) -> None:
    assert mask_key(key) == shown
    if key:
        assert len(shown) - 1 <= min(10, len(key) // 2)


def test_reading_settings_imports_no_heavy_dependencies(tmp_path: Path) -> None:
    import subprocess

    path = tmp_path / "config.toml"
    path.write_text('region = "cn"\nmodel = "m"\n')
    code = (
        "import sys, pathlib; from kimi_cli.config import *; "
        f"resolve_settings(GlobalOptions(), {{}}, ConfigStore(pathlib.Path({str(path)!r}))); "
        "print(sorted(m for m in ('tomlkit', 'rich', 'typer', 'httpx') if m in sys.modules))"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root
    )
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    "text",
    [
        '[[verified]]\nmodel = "a"\n',
        'verified = "a"\n',
        "[model]\nx = 1\n",
        "verified = {model = 'a'}\n",
    ],
)
def test_odd_shapes_do_not_break_writes(store: ConfigStore, text: str) -> None:
    write(store, text)
    store.set("model", "m")
    when = datetime(2026, 1, 1, tzinfo=UTC)
    store.save_verified_model("m", base_url="http://h/v1", verified_at=when)
    got = ConfigStore(store.path).verified()
    assert got is not None and got.model == "m" and fresh(store)["model"] == "m"


def test_docs_cover_every_key_and_variable() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "configuration.md").read_text(encoding="utf-8")
    variables = [
        "KIMI_API_KEY", "MOONSHOT_API_KEY", "KIMI_BASE_URL", "KIMI_REGION", "KIMI_MODEL",
        "KIMI_GLOBAL_BASE_URL", "KIMI_CN_BASE_URL", "KIMI_TIMEOUT", "KIMI_MAX_RETRIES",
        "KIMI_DEBUG", "KIMI_CONFIG_DIR", "KIMI_DATA_DIR", "KIMI_CACHE_DIR",
    ]  # fmt: skip
    for name in [*CONFIG_KEYS, *variables]:
        assert f"`{name}`" in doc, name


def test_the_config_key_table_of_the_docs_is_the_spec() -> None:
    from kimi_cli.config_store import markdown_table

    doc = (Path(__file__).parents[2] / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert markdown_table() in doc, "regenerate the table: kimi_cli.config_store.markdown_table()"
