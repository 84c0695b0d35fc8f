"""A conversation and its turns, shared by one-shot chat and the REPL.

``turn`` runs a turn and saves it, ``rules`` says what a finished turn means (the same words
in both front ends), ``images`` keeps the pictures of a conversation, ``explain`` words an
API refusal for the turn that got it.
"""

from kimi_cli.conversation.images import Attachment, ImageStore, sniff_image
from kimi_cli.conversation.turn import (
    Conversation,
    TurnError,
    TurnInterrupted,
    TurnObserver,
    TurnResult,
    partial_of,
)

__all__ = [
    "Attachment",
    "Conversation",
    "ImageStore",
    "TurnError",
    "TurnInterrupted",
    "TurnObserver",
    "TurnResult",
    "partial_of",
    "sniff_image",
]
