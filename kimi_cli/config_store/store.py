"""The config file (``config.toml``): ConfigStore, and how files are written safely.

Reading uses the standard library's ``tomllib``, so a chat never imports tomlkit. Writing uses
tomlkit, which changes only the keys touched, so the user's comments, order and formatting
survive. Every write goes to a 0600 temporary file in the same directory, is fsynced, and then
replaces the file with ``os.replace``: a crash leaves the old file or the new one, never half.
A file that is not valid TOML is reported with its path and is never overwritten.

``kimi_cli.config`` re-exports everything public here; import it from there.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from kimi_cli.config_store.keys import CONFIG_KEYS, SPEC, check_key, expected, normalize, type_ok
from kimi_cli.errors import ConfigError, UsageError, os_error_fix

VERIFIED_TABLE = "verified"

_IS_WINDOWS = os.name == "nt"


def refuse_api_key() -> UsageError:
    """The error for ``kimi config set api_key …``: argv leaks into shell history and ``ps``."""
    return UsageError(
        "refusing to set api_key on the command line: "
        "it would stay in your shell history and in `ps`",
        hint="run 'kimi setup --key-stdin' and pipe the key in",
    )


_NEW_FILE_HEADER = (
    "kimi configuration: https://github.com/kimi-api/kimi-api/blob/main/docs/configuration.md",
    "This file may hold your API key: keep it private (mode 0600).",
)


def _type_name(value: object) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}
    names.update({dict: "a table", list: "an array", datetime: "a date-time"})
    return names.get(type(value), f"a {type(value).__name__}")


@dataclass(frozen=True)
class VerifiedModel:
    """Where and when the stored model ID was last found in ``/models``."""

    model: str
    base_url: str | None
    at: datetime | None


def _scrub(text: str) -> str:
    """Hide anything in a parser message that could be a pasted key."""
    return re.sub(r"[A-Za-z0-9_\-]{16,}", "…", text)


def _toml_reason(exc: Exception) -> str:
    text = str(exc)
    found = re.fullmatch(r"(.*) \(at line (\d+), column \d+\)", text, re.DOTALL)
    if found:
        reason = found.group(1)
        return _scrub(f"line {found.group(2)}: {reason[:1].lower()}{reason[1:]}")
    found = re.fullmatch(r"(.*) \(at end of document\)", text, re.DOTALL)
    if found:
        return _scrub(f"at the end: {found.group(1)[:1].lower()}{found.group(1)[1:]}")
    return _scrub(text)


class ConfigStore:
    """``config.toml``: read once with tomllib, written key by key with tomlkit."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._cache: dict[str, Any] | None = None

    # -- reading ---------------------------------------------------------------------------

    def load(self) -> dict[str, Any]:
        """The file's contents ({} if it does not exist); ConfigError if unusable."""
        if self._cache is None:
            text = self._read_text()
            data = {} if text is None else self._parse(text)
            self._check_types(data)
            self._cache = data
        return dict(self._cache)

    def get(self, key: str) -> Any | None:
        return self.load().get(key)

    def verified(self) -> VerifiedModel | None:
        """The ``[verified]`` table, or None when there is none."""
        table = self.load().get(VERIFIED_TABLE)
        if not table or "model" not in table:
            return None
        at = table.get("at")
        if isinstance(at, str):
            try:
                at = datetime.fromisoformat(at)
            except ValueError:
                at = None
        return VerifiedModel(table["model"], table.get("base_url"), at)

    def unknown_keys(self) -> list[str]:
        """Keys in the file that kimi does not know (typos such as ``api-key``): doctor warns."""
        return [k for k in self.load() if k not in CONFIG_KEYS and k != VERIFIED_TABLE]

    def _read_text(self) -> str | None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ConfigError(
                f"config file {self.path} cannot be read: {exc.strerror or exc}",
                hint=os_error_fix(exc, self.path),
            ) from exc
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise self._corrupt(f"not UTF-8 at byte {exc.start}") from exc

    def _corrupt(self, reason: str) -> ConfigError:
        return ConfigError(
            f"config file {self.path} is not valid TOML ({reason})",
            hint="fix or remove it; it was left untouched",
        )

    def _parse(self, text: str) -> dict[str, Any]:
        import tomllib  # imported when there is a file to read

        try:
            return tomllib.loads(text)
        except RecursionError as exc:
            raise self._corrupt("nested too deeply") from exc
        except ValueError as exc:  # tomllib.TOMLDecodeError is a ValueError
            raise self._corrupt(_toml_reason(exc)) from exc

    def type_error(self, key: str) -> ConfigError | None:
        """Why the file's ``key`` has the wrong TOML type (``timeout = "abc"``), or None.

        Checked only when the file's value is the one that wins, so a variable or a flag can
        stand in for a bad value, and ``config set`` can replace it.
        """
        value = self.load().get(key)
        if value is None or key not in SPEC or type_ok(key, value):
            return None
        kind = f"{expected(key)}, not {_type_name(value)}"
        return ConfigError(
            f"config file {self.path}: {key} must be {kind}",
            hint=f"run 'kimi config set {key} …' or fix {key} in the file",
        )

    def _check_types(self, data: Mapping[str, Any]) -> None:
        table = data.get(VERIFIED_TABLE)
        if table is None:
            return
        if not isinstance(table, dict) or any(
            not isinstance(table.get(name, ""), str) for name in ("model", "base_url")
        ):
            bad = "[verified] must be a table with string model and base_url"
            raise ConfigError(
                f"config file {self.path}: {bad}",
                hint="remove the [verified] table and run 'kimi models use ID'",
            )

    # -- writing ---------------------------------------------------------------------------

    def set(self, key: str, value: Any) -> None:
        """Set one key (not ``api_key``: see set_api_key). The value must already be typed."""
        check_key(key)
        if key == "api_key":
            raise refuse_api_key()
        self.update({key: value})

    def set_api_key(self, key: str) -> None:
        """Store the API key (``kimi setup`` only; never from argv)."""
        self.update({"api_key": key})

    def unset(self, key: str) -> bool:
        """Remove a key; True if it was there. Removing ``model`` also removes ``[verified]``."""
        check_key(key)
        return self._edit(lambda doc: _apply(doc, {}, [key]))

    def save_verified_model(self, model: str, *, base_url: str, verified_at: datetime) -> None:
        """Store ``model`` and where and when it was found in ``/models``."""
        verified = {"model": model, "base_url": base_url, "at": verified_at}
        self.update({"model": model, VERIFIED_TABLE: verified})

    def update(self, values: Mapping[str, Any], *, remove: Iterable[str] = ()) -> None:
        """Set and remove several keys in one atomic write.

        ``values`` may hold ``api_key`` (setup) and ``verified``: a mapping with ``model``,
        ``base_url`` and ``at`` (a datetime). Changing or removing ``model`` without a matching
        ``verified`` drops the old ``[verified]`` table, which would describe another model.
        """
        checked: dict[str, Any] = {}
        for key, value in values.items():
            if key == VERIFIED_TABLE:
                checked[key] = _verified(value["model"], value["base_url"], value["at"])
                continue
            check_key(key)
            try:
                checked[key] = normalize(key, value)
            except ValueError as exc:
                shown = "the given key" if key == "api_key" else repr(value)
                raise UsageError(f"invalid {key} {shown}: expected {exc}") from None
        removed = list(remove)
        for key in removed:
            check_key(key)
        self._edit(lambda doc: _apply(doc, checked, removed))

    def _edit(self, change: Callable[[Any], bool]) -> bool:
        """Read, change and write the file under an exclusive lock, so two ``kimi`` writing
        at once (``config set`` beside ``setup`` or ``models use``) each keep the other's
        keys instead of the last write winning."""
        target = self.path.resolve() if self.path.is_symlink() else self.path
        if not target.parent.exists():
            import tomlkit

            if not change(tomlkit.document()):
                return False  # nothing to write: no directory made for the lock either
        with edit_lock(target):
            return self._edit_locked(change)

    def _edit_locked(self, change: Callable[[Any], bool]) -> bool:
        import tomllib

        import tomlkit  # only writes pay for tomlkit
        from tomlkit.exceptions import TOMLKitError

        text = self._read_text()
        if text is None:
            doc = tomlkit.document()
            for line in _NEW_FILE_HEADER:
                doc.add(tomlkit.comment(line))
        else:
            self._parse(text)  # refuse to touch a corrupt file
            try:
                doc = tomlkit.parse(text)
            except TOMLKitError as exc:
                raise self._corrupt(_scrub(str(exc))) from exc
        changed = change(doc)
        if not changed:
            return False
        new_text = doc.as_string()
        try:  # never replace a good file with one that tomllib cannot read
            tomllib.loads(new_text)
        except ValueError as exc:
            raise ConfigError(
                f"cannot write config file {self.path}: the result would not be valid TOML",
                hint="this is a bug, please report it; the file was left untouched",
            ) from exc
        target = self.path.resolve() if self.path.is_symlink() else self.path
        atomic_write(target, new_text.encode("utf-8"), shown=self.path)
        self._cache = None
        return changed


def _verified(model: str, base_url: str, at: datetime | str) -> dict[str, str]:
    when = at.isoformat(timespec="seconds") if isinstance(at, datetime) else str(at)
    return {"model": model.strip(), "base_url": base_url.rstrip("/"), "at": when}


def _apply(doc: Any, values: Mapping[str, Any], remove: Iterable[str]) -> bool:
    """Change the tomlkit document in place; True if anything was removed or set."""
    remove = list(remove)
    old = doc.get(VERIFIED_TABLE)
    old_model = old.get("model") if isinstance(old, MutableMapping) else None
    # A [verified] table describing another model would be a lie: drop it.
    stale = "model" in remove or values.get("model", old_model) != old_model
    if old_model is not None and VERIFIED_TABLE not in values and stale:
        remove.append(VERIFIED_TABLE)
    changed = bool(values)
    for key in remove:
        if key in doc:
            del doc[key]
            changed = True
    for key, value in values.items():
        table = doc.get(key)
        if key == VERIFIED_TABLE and isinstance(table, MutableMapping):
            for name in [n for n in table if n not in value]:
                del table[name]
            for name, item in value.items():
                table[name] = item
        else:
            doc[key] = value
    return changed


@contextlib.contextmanager
def edit_lock(path: Path) -> Iterator[None]:
    """An exclusive lock for one read-modify-write of ``path``: ``flock`` on its directory,
    which leaves no file behind; the operating system drops it however its holder ends.
    Where it cannot be taken (no ``fcntl``, a directory that cannot be made or opened) the
    edit goes on unlocked, and the write says what is wrong."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    try:
        ensure_private_dir(path.parent)
        fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def ensure_private_dir(directory: Path) -> None:
    """Create ``directory`` with mode 0700 if it is missing (parents with the default mode)."""
    if directory.is_dir():
        return
    os.makedirs(directory, mode=0o700, exist_ok=True)
    if not _IS_WINDOWS:
        os.chmod(directory, 0o700)


def atomic_write(path: Path, data: bytes, *, shown: Path | None = None) -> None:
    """Write ``data`` to ``path`` through a 0600 temporary file, fsync and ``os.replace``.

    ConfigError naming the file when the directory or file cannot be written.
    """
    import secrets

    directory = path.parent
    tmp: Path | None = None
    try:
        ensure_private_dir(directory)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
        tmp = directory / f".{path.name}.{secrets.token_hex(6)}.tmp"
        fd = os.open(tmp, flags, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        tmp = None
        if not _IS_WINDOWS:
            _fsync_dir(directory)
    except OSError as exc:
        raise ConfigError(
            f"cannot write config file {shown or path}: {exc.strerror or exc}",
            hint=os_error_fix(exc, directory),
        ) from exc
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                tmp.unlink()


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
