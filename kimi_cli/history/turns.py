"""One turn at a time in a conversation, across ``kimi`` processes.

Two turns of one conversation in flight at once (two ``kimi chat -c``, or one beside the
REPL) would store ``user, user, assistant, assistant``: which answer belongs to which
question is lost, and the next turn sends that tangle as context. A turn on a conversation
that already exists therefore claims it first: an exclusive lock on one byte of a file
beside the history database (``history.db.turns``), at an offset made from the
conversation's ID, held until its answer is saved. A second claim is refused at once
(exit 75), before anything is saved or sent. The operating system drops the lock when its
holder ends in any way, so a turn killed with ``kill -9`` leaves nothing stuck. A new
conversation needs no claim: no other process can know its ID yet.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from kimi_cli.errors import TemporaryError

__all__ = ["TurnClaim", "claim_turn"]


class TurnClaim:
    """The claim on a conversation; ``close()`` gives it up (idempotent)."""

    def __init__(self, fd: int | None) -> None:
        self._fd = fd

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # the lock goes with the descriptor


def claim_turn(db_path: Path, conversation_id: str) -> TurnClaim:
    """Claim ``conversation_id`` for one turn, or raise ``TemporaryError`` (exit 75) when
    another process holds it. Where no lock can be taken (no ``fcntl``, a data dir that
    cannot be written), the turn goes on unclaimed: the history's own errors say the rest."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        return TurnClaim(None)
    try:
        fd = os.open(db_path.with_name(db_path.name + ".turns"), os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        return TurnClaim(None)
    offset = int.from_bytes(hashlib.blake2b(conversation_id.encode(), digest_size=4).digest())
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, offset)
    except OSError:
        os.close(fd)
        raise TemporaryError(
            f"conversation {conversation_id} is taking a turn in another kimi process",
            hint="wait for that answer, then send this again (or start a new conversation)",
        ) from None
    return TurnClaim(fd)
