"""The API key in the OS keychain, through the ``keyring`` package.

``keyring`` is imported only when the config says the key lives there (or ``kimi setup
--keyring`` puts it there): it looks for backends on import, which a chat must not pay for.
Tests pick a backend with ``PYTHON_KEYRING_BACKEND``.
"""

from __future__ import annotations

from typing import Any

from kimi_cli.errors import ConfigError

SERVICE = "kimi-api"
USERNAME = "api_key"
STORE_NAME = "keyring"  # the value of the config key ``api_key_store``
_NO_BACKEND_HINT = (
    "install or unlock a keychain (macOS Keychain, Windows Credential Locker, "
    "Secret Service on Linux), or run 'kimi setup' without --keyring"
)


def _keyring() -> Any:
    try:
        import keyring
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise ConfigError("the keyring package is not installed", hint=_NO_BACKEND_HINT) from exc
    return keyring


def backend_name() -> str:
    """The backend keyring would use, for messages (``SecretService Keyring``)."""
    backend = _keyring().get_keyring()
    return str(getattr(backend, "name", type(backend).__name__))


def _failure(action: str, exc: Exception) -> ConfigError:
    if type(exc).__name__ == "NoKeyringError":
        reason = "keyring found no backend on this machine"
    else:
        text = str(exc).strip()
        reason = text.splitlines()[0][:120] if text else type(exc).__name__
    return ConfigError(
        f"cannot {action} the API key in the OS keychain ({reason})", hint=_NO_BACKEND_HINT
    )


def store_key(key: str) -> str:
    """Save ``key`` in the keychain; returns the backend's name. ConfigError when none works."""
    keyring = _keyring()
    try:
        keyring.set_password(SERVICE, USERNAME, key)
    except Exception as exc:  # keyring's errors, and a backend's own (dbus, locked keychain)
        raise _failure("store", exc) from exc
    return backend_name()


def read_key() -> str:
    """The key saved by ``kimi setup --keyring``; ConfigError when it cannot be had."""
    keyring = _keyring()
    try:
        key = keyring.get_password(SERVICE, USERNAME)
    except Exception as exc:  # as above: any backend failure is the keychain's, not a bug
        raise _failure("read", exc) from exc
    if not key:
        raise ConfigError(
            f"the config file says the API key is in the OS keychain ({backend_name()}), "
            "but none is stored there",
            hint="run 'kimi setup --keyring' again, or 'kimi setup' to keep it in the file",
        )
    return str(key)
