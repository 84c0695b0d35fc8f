"""A conversation and its turns, shared by one-shot chat and the REPL.

``turn`` runs a turn and saves it (``Conversation``, ``TurnObserver``, ``TurnResult``,
``TurnError``), ``rules`` says what a finished turn means (the same words in both front ends),
``images`` keeps the pictures of a conversation, ``explain`` words an API refusal for the turn
that got it. Import from the submodules: this package imports nothing, so reading input
(``cli/chat_input.py``, and through it ``kimi --help``) does not load the turn machinery.
"""
