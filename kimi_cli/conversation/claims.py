"""A turn on a stored conversation claims it first (``kimi_cli.history.turns``) and catches
up with what other ``kimi`` processes saved in it since this one last looked."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kimi_cli.errors import HistoryError
from kimi_cli.history.turns import TurnClaim, claim_turn

if TYPE_CHECKING:
    from kimi_cli.conversation.turn import Conversation

__all__ = ["claim", "release"]


def claim(conversation: Conversation) -> TurnClaim | None:
    """Claim the stored conversation for one turn (another process taking a turn in it is
    exit 75) and catch up: turns others saved since become context, and a conversation
    deleted meanwhile gives way to a new one (None: nothing to claim)."""
    history, conversation_id = conversation.history, conversation.conversation_id
    assert history is not None and conversation_id is not None
    held = claim_turn(history.path, conversation_id)
    try:
        now = history.get(conversation_id)
    except HistoryError:
        return held  # the save says what is wrong
    except BaseException:
        held.close()
        raise
    if now is None:
        held.close()
        conversation.warn(
            f"conversation {conversation_id} was deleted by another kimi: "
            "this message starts a new conversation"
        )
        conversation.conversation_id, conversation.earlier = None, []
        conversation.stored = None
        return None
    if now.messages != conversation.stored:
        conversation.resume(now.id, history)
    return held


def release(conversation: Conversation, held: TurnClaim) -> None:
    """What is stored now is what this process knows (nobody else wrote: it held the
    claim); then the claim goes."""
    try:
        history, conversation_id = conversation.history, conversation.conversation_id
        if history is not None and conversation_id is not None:
            now = history.get(conversation_id)
            conversation.stored = now.messages if now is not None else None
    except HistoryError:
        conversation.stored = None
    finally:
        held.close()
