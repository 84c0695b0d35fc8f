"""Where a setting came from, as a value: a kind and a name, shown as one phrase.

Code branches on ``kind`` and reads ``name`` (the flag, the variable, the file key); people see
``str(source)``: ``env KIMI_REGION``, ``flag --base-url``, ``config file base_url``, ``default``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class SourceKind(Enum):
    FLAG = "flag"
    ENV = "env"
    FILE = "config file"
    KEY_CMD = "api_key_cmd"
    KEYRING = "keyring"
    REGION = "region"  # derived from the region (the currency)
    HOST = "host"  # derived from the base URL's host (the currency)
    DEFAULT = "default"
    UNUSED = "unused"  # the region, when an explicit base URL won
    NOT_SET = "not set"


@dataclass(frozen=True)
class Source:
    """``kind`` plus ``name`` (``--base-url``, ``KIMI_REGION``, the file's key, a region);
    ``note`` is an aside shown in parentheses (``api_key_cmd (not run)``)."""

    kind: SourceKind
    name: str = ""
    note: str = ""

    @classmethod
    def flag(cls, name: str = "") -> Source:
        return cls(SourceKind.FLAG, name)

    @classmethod
    def env(cls, name: str) -> Source:
        return cls(SourceKind.ENV, name)

    @classmethod
    def file(cls, key: str = "") -> Source:
        return cls(SourceKind.FILE, key)

    @classmethod
    def default(cls, name: str = "") -> Source:
        return cls(SourceKind.DEFAULT, name)

    @classmethod
    def not_set(cls, why: str = "") -> Source:
        return cls(SourceKind.NOT_SET, note=why)

    @property
    def is_env(self) -> bool:
        return self.kind is SourceKind.ENV

    @property
    def is_flag(self) -> bool:
        return self.kind is SourceKind.FLAG

    @property
    def is_file(self) -> bool:
        return self.kind is SourceKind.FILE

    def unset_fix(self, key: str) -> str:
        """How to stop this source from setting ``key``: a config command does not beat a
        variable, so the fix names the variable or the flag."""
        if self.kind is SourceKind.ENV:
            return f"unset {self.name}"
        if self.kind is SourceKind.FLAG:
            return f"drop {self.name or 'the flag'}"
        if self.kind is SourceKind.FILE:
            return f"kimi config unset {self.name or key}"
        if self.kind is SourceKind.KEYRING:
            return "run 'kimi setup' to replace the key in the keychain"
        return f"change {self}"

    def refused_fix(self, key: str, flag: str) -> str:
        """The hint when the API refuses the value of ``key`` from here: it did not come from
        ``flag``, so saying "change the flag" would send someone to the wrong place."""
        return f"{key} comes from {self}: {self.unset_fix(key)}, or give {flag}"

    def __str__(self) -> str:
        kind = self.kind
        if kind is SourceKind.DEFAULT:
            text = f"{self.name} (default)" if self.name else "default"
        elif kind is SourceKind.UNUSED:
            text = f"unused: the base URL is from {self.name}"
        elif kind is SourceKind.NOT_SET:
            return self.note or "not set"
        else:
            text = f"{kind.value} {self.name}" if self.name else kind.value
        return f"{text} ({self.note})" if self.note else text
