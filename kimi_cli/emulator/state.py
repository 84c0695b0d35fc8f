"""The emulator's mutable state: its configuration and the request statistics, behind one lock.

Configuration keys (``POST /_emulator/config`` and ``Emulator.configure``) are listed in
``CONFIG_KEYS``; docs/emulator.md describes each.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .batches import BatchStore
from .faults import DELAY_FAULT, STREAM_FAULTS, Fault, parse_fault
from .files import FileStore
from .models import default_models, normalize_model
from .replies import PromptCache
from .stats import Stats

DEFAULT_BALANCE = {
    "available": 49.58894,
    "voucher": 46.58893,
    "cash": 3.00001,
}  # the documented example
CONFIG_KEYS = (
    "faults",
    "balance",
    "models",
    "keys",
    "reset_stats",
    "delay",
    "stall",
    "token_delay",
    "latency",
    "retired",
    "file_max_bytes",
    "file_max_count",
    "keep_bodies",
    "rate_limit_storm",
    "storm_size",
    "batch_step_s",
    "fiber_output",
)
_SECONDS_KEYS = ("delay", "stall", "token_delay", "latency", "batch_step_s")
_COUNT_KEYS = ("file_max_bytes", "file_max_count", "keep_bodies", "rate_limit_storm", "storm_size")
_FIBER_OUTPUTS = ("encrypted", "plain")


def _parse_balance(current: Mapping[str, float], raw: Any) -> dict[str, float]:
    """Merge ``{"available", "voucher", "cash"}``; ``available`` follows the others unless given.

    available = voucher + cash, except that a negative cash leaves available = voucher.
    """
    if not isinstance(raw, Mapping):
        raise ValueError("balance must be an object with available, voucher, cash")
    unknown = sorted(set(raw) - {"available", "voucher", "cash"})
    if unknown:
        raise ValueError(f"unknown balance field {unknown[0]!r}; use available, voucher, cash")
    for name, value in raw.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"balance {name} must be a number")
    balance = dict(current)
    balance.update({k: float(v) for k, v in raw.items()})
    if "available" not in raw:
        balance["available"] = round(balance["voucher"] + max(balance["cash"], 0.0), 5)
    return balance


def _parse_seconds(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"{name} must be a number of seconds >= 0")
    return float(value)


def _parse_count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be an integer >= 0")
    return value


def _parse_retired(raw: Any) -> list[str]:
    if not isinstance(raw, list) or not all(isinstance(m, str) and m for m in raw):
        raise ValueError("retired must be a list of model IDs")
    return list(raw)


def _parse_keys(raw: Any) -> list[str]:
    if not isinstance(raw, list) or not raw or not all(isinstance(k, str) and k for k in raw):
        raise ValueError("keys must be a non-empty list of strings")
    return list(raw)


class EmulatorState:
    """Configuration and statistics shared by the request threads."""

    def __init__(
        self,
        *,
        keys: Sequence[str],
        faults: Iterable[Any],
        models: Sequence[Mapping[str, Any]] | None,
        balance: Mapping[str, float] | None,
    ) -> None:
        self._lock = threading.Lock()
        self.keys = _parse_keys(list(keys))
        self.faults = [parse_fault(f) for f in faults]
        if models is None:
            self.models = default_models()
        else:
            self.models = [normalize_model(m) for m in models]
        self.balance = _parse_balance(DEFAULT_BALANCE, balance or {})
        self.delay = 2.0
        self.stall = 30.0
        self.token_delay = 0.0
        self.latency = 0.0
        self.retired: list[str] = []
        self.keep_bodies = 20
        self.rate_limit_storm = 0
        self.storm_size = 10
        self.batch_step_s = 2.0
        self.fiber_output = "encrypted"
        self.files = FileStore()
        self.batches = BatchStore(self.files)
        self.stats_ = Stats()
        self.prompt_cache = PromptCache()
        self._ids = 0

    def close(self) -> None:
        self.files.close()

    @property
    def file_max_bytes(self) -> int:
        return self.files.max_bytes

    @file_max_bytes.setter
    def file_max_bytes(self, value: int) -> None:
        self.files.max_bytes = value

    @property
    def file_max_count(self) -> int:
        return self.files.max_count

    @file_max_count.setter
    def file_max_count(self, value: int) -> None:
        self.files.max_count = value

    # --- configuration ------------------------------------------------------------------------

    def config(self) -> dict[str, Any]:
        with self._lock:
            return self._config()

    def _config(self) -> dict[str, Any]:
        return {
            "keys": list(self.keys),
            "faults": [f.to_json() for f in self.faults],
            "balance": dict(self.balance),
            "models": copy.deepcopy(self.models),
            "delay": self.delay,
            "stall": self.stall,
            "token_delay": self.token_delay,
            "latency": self.latency,
            "retired": list(self.retired),
            "file_max_bytes": self.file_max_bytes,
            "file_max_count": self.file_max_count,
            "keep_bodies": self.keep_bodies,
            "rate_limit_storm": self.rate_limit_storm,
            "storm_size": self.storm_size,
            "batch_step_s": self.batch_step_s,
            "fiber_output": self.fiber_output,
        }

    def configure(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Apply changes all at once or not at all; ``ValueError`` names the first bad one."""
        unknown = sorted(set(changes) - set(CONFIG_KEYS))
        if unknown:
            raise ValueError(f"unknown config key {unknown[0]!r}; known: {', '.join(CONFIG_KEYS)}")
        with self._lock:
            updates: dict[str, Any] = {}
            if "faults" in changes:
                faults = changes["faults"]
                if not isinstance(faults, list):
                    raise ValueError("faults must be a list")
                updates["faults"] = [parse_fault(f) for f in faults]
            if "balance" in changes:
                updates["balance"] = _parse_balance(self.balance, changes["balance"])
            if "models" in changes:
                models = changes["models"]
                if not isinstance(models, list):
                    raise ValueError("models must be a list of model objects")
                updates["models"] = [normalize_model(_mapping(m)) for m in models]
            if "keys" in changes:
                updates["keys"] = _parse_keys(changes["keys"])
            for name in _SECONDS_KEYS:
                if name in changes:
                    updates[name] = _parse_seconds(name, changes[name])
            for name in _COUNT_KEYS:
                if name in changes:
                    updates[name] = _parse_count(name, changes[name])
            if "retired" in changes:
                updates["retired"] = _parse_retired(changes["retired"])
            if "fiber_output" in changes:
                if changes["fiber_output"] not in _FIBER_OUTPUTS:
                    raise ValueError("fiber_output must be encrypted or plain")
                updates["fiber_output"] = changes["fiber_output"]
            reset = changes.get("reset_stats", False)
            if not isinstance(reset, bool):
                raise ValueError("reset_stats must be true or false")
            for name, value in updates.items():
                setattr(self, name, value)
            if reset:
                self.stats_.reset()
                self.prompt_cache.clear()
            return self._config()

    def current_balance(self) -> dict[str, float]:
        with self._lock:
            return dict(self.balance)

    def key_ok(self, key: str) -> bool:
        with self._lock:
            return key in self.keys

    def model_list(self) -> list[dict[str, Any]]:
        """The models ``/models`` lists and chat accepts: retired ones are gone from both."""
        with self._lock:
            return copy.deepcopy([m for m in self.models if m["id"] not in self.retired])

    def take_storm(self) -> bool:
        """Whether this chat request falls in a 429 storm (and uses up one of its requests)."""
        with self._lock:
            if self.rate_limit_storm <= 0:
                return False
            self.rate_limit_storm -= 1
            return True

    def start_storm(self) -> None:
        with self._lock:
            self.rate_limit_storm = max(self.rate_limit_storm, self.storm_size)

    def take_faults(self, endpoint: str, stream: bool) -> list[Fault]:
        """The faults acting on this request; ``once`` faults among them are used up.

        At most one fault replaces the answer (an error, a raw body, a cut); when one does,
        stream faults wait for a later request.
        """
        with self._lock:
            chosen: list[Fault] = []
            replaced = False
            names: set[str] = set()
            for fault in self.faults:
                if not fault.matches(endpoint, stream) or fault.name in names:
                    continue
                if fault.name not in STREAM_FAULTS and fault.name != DELAY_FAULT:
                    if replaced:
                        continue
                    replaced = True
                names.add(fault.name)
                chosen.append(fault)
            if replaced:
                chosen = [f for f in chosen if f.name not in STREAM_FAULTS]
            for fault in chosen:
                if fault.once:
                    self.faults.remove(fault)
            return chosen

    # --- statistics ---------------------------------------------------------------------------

    def next_id(self) -> int:
        with self._lock:
            self._ids += 1
            return self._ids

    def record(
        self, method: str, path: str, endpoint: str | None, body: Any, headers: Mapping[str, str]
    ) -> None:
        self.stats_.record(method, path, endpoint, body, headers, self.keep_bodies)

    def count_disconnect(self) -> None:
        self.stats_.count_disconnect()

    def stats(self) -> dict[str, Any]:
        return self.stats_.snapshot()


def _mapping(value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError("each model must be an object")
    return value
