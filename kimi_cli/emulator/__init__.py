"""A Moonshot-compatible HTTP server for tests and for trying ``kimi`` without a key.

Standard library only, and nothing imported from the rest of ``kimi_cli``: it keeps its own copy
of the API's rules so that a wrong rule cannot pass on both sides. See ``docs/emulator.md``.
"""

from __future__ import annotations

from .control import Emulator, main

__all__ = ["Emulator", "main"]
