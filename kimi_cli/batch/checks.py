"""Every input item becomes the request body ``chat`` would send, or a usage error naming
its line: the same model verification and request policy as ``chat``, checked for the
whole input before anything is uploaded or sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kimi_cli.api.types import Model
from kimi_cli.batch.inputs import InputItem
from kimi_cli.catalog.policy import (
    ChatOptions,
    ModelPolicy,
    build_body,
    check_options,
    policy_for,
)
from kimi_cli.errors import KimiError, UsageError

#: Requests larger than this are measured with the tokenizer endpoint (as ``chat`` does),
#: so one that cannot fit the model's context is refused before upload.
MEASURE_ABOVE_BYTES = 64 * 1024

SAMPLING_FIELDS = ("temperature", "top_p", "n", "presence_penalty", "frequency_penalty")
RANGES = {"temperature": (0.0, 1.0), "top_p": (0.0, 1.0)}

ResolveModel = Callable[[str], Model]
#: A document's ``system`` message (its extracted text), as ``chat -f`` sends it.
DocumentMessage = Callable[[Path], dict[str, Any]]
#: An image file as the image part ``chat -f`` sends (refused when broken or too large).
ImagePart = Callable[[Path], dict[str, Any]]
CountTokens = Callable[[str, list[dict[str, Any]]], int]


@dataclass(frozen=True)
class Prepared:
    seq: int  # position in the input, from 0
    custom_id: str
    source: str
    body: dict[str, Any]
    from_file: bool = False


@dataclass
class Preparer:
    """Turns items into checked bodies; remembers the custom_ids seen and the models used.

    ``resolve`` verifies a model ID against the account's list (exit 5 when it is not
    there); ``count_tokens`` measures a large request with the API's tokenizer.
    """

    resolve: ResolveModel
    default_model: str | None
    system: str | None = None
    options: ChatOptions = field(default_factory=ChatOptions)
    count_tokens: CountTokens | None = None
    response_format: dict[str, Any] | None = None  # from --schema
    document_message: DocumentMessage | None = None
    image_part: ImagePart | None = None
    one_model: bool = False  # the Batch API takes one model per input file

    def __post_init__(self) -> None:
        self._seen: set[str] = set()
        self._models: dict[str, Model] = {}
        self._first_model: str | None = None
        self.count = 0
        #: The most output all requests may ask for: each one's budget, or its model's
        #: whole context when it sets none (the worst case a budget is checked against).
        self.output_budget = 0

    @property
    def model_ids(self) -> list[str]:
        return list(dict.fromkeys(m.id for m in self._models.values()))

    def prepare_all(self, items: Iterable[InputItem]) -> Iterator[Prepared]:
        for item in items:
            yield self.prepare(item)

    def prepare(self, item: InputItem) -> Prepared:
        if item.custom_id in self._seen:
            raise UsageError(
                f"{item.where}: custom_id {item.custom_id!r} appears twice",
                hint="every custom_id must be unique",
            )
        self._seen.add(item.custom_id)
        model = self._model(item)
        policy = policy_for(model)
        if item.body is not None:
            body = self._checked_body(item, item.body, policy)
        else:
            body = self._built_body(item, policy)
        self._check_context(item, model, body)
        self.output_budget += body.get("max_completion_tokens") or model.context_length or 0
        prepared = Prepared(self.count, item.custom_id, item.source, body, item.from_file)
        self.count += 1
        return prepared

    def _model(self, item: InputItem) -> Model:
        raw = item.body.get("model") if item.body is not None else item.model
        if raw is not None and not isinstance(raw, str):
            raise UsageError(f"{item.where}: model must be a string")
        model_id = raw or self.default_model
        if not model_id:
            raise UsageError(
                f"{item.where}: no model given",
                hint="pass -m MODEL, or set one: kimi models use ID",
            )
        model = self._models.get(model_id)
        if model is None:
            try:
                model = self.resolve(model_id)
            except KimiError as exc:
                exc.message = f"{item.where}: {exc.message}"
                raise
            self._models[model_id] = model
        if self.one_model:
            if self._first_model is None:
                self._first_model = model.id
            elif model.id != self._first_model:
                raise UsageError(
                    f"{item.where}: model {model.id} differs from {self._first_model} "
                    "of the lines before",
                    hint="a batch takes one model; split the input by model",
                )
        return model

    def _built_body(self, item: InputItem, policy: ModelPolicy) -> dict[str, Any]:
        try:
            check_options(policy, self.options)  # a refused flag: before a document's upload
        except UsageError as exc:
            exc.message = f"{item.where}: {exc.message}"
            raise
        messages: list[dict[str, Any]] = []
        system = item.system if item.system is not None else self.system
        if system:
            messages.append({"role": "system", "content": system})
        if item.document is not None:
            if self.document_message is None:
                raise UsageError(f"{item.where}: documents are not sent here")
            messages.append(self.document_message(item.document))
        messages.append({"role": "user", "content": self._user_content(item, policy)})
        try:
            body = build_body(policy, messages, self.options)
        except UsageError as exc:
            exc.message = f"{item.where}: {exc.message}"
            raise
        if self.response_format is not None:
            body["response_format"] = self.response_format
        return body

    def _user_content(self, item: InputItem, policy: ModelPolicy) -> str | list[dict[str, Any]]:
        if item.image is None:
            return item.text or ""
        if policy.image_in is False:
            raise UsageError(
                f"{item.where}: {policy.model_id} does not take images",
                hint="pick a vision model with -m ('kimi models')",
            )
        if self.image_part is None:
            raise UsageError(f"{item.where}: images are not sent here")
        text = [{"type": "text", "text": item.text}] if item.text else []
        return [*text, self.image_part(item.image)]

    def _checked_body(
        self, item: InputItem, raw: dict[str, Any], policy: ModelPolicy
    ) -> dict[str, Any]:
        """A body in the API's shape, held to the rules ``chat`` applies to its own."""
        where = item.where
        body = dict(raw)
        body["model"] = policy.model_id
        if body.pop("stream", None) not in (None, False):
            raise UsageError(f"{where}: a batch request cannot stream", hint="drop 'stream'")
        body.pop("stream_options", None)
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise UsageError(f"{where}: body.messages must be a non-empty list")
        for i, message in enumerate(messages):
            if not isinstance(message, dict) or not isinstance(message.get("role"), str):
                raise UsageError(f"{where}: body.messages[{i}] needs a role and content")
        if "max_tokens" in body:
            raise UsageError(f"{where}: max_tokens is deprecated", hint="use max_completion_tokens")
        for name in SAMPLING_FIELDS:
            if name not in body:
                continue
            if policy.fixed_sampling:
                raise UsageError(
                    f"{where}: {policy.model_id} fixes its sampling on the server; "
                    f"it takes no {name}",
                    hint=f"drop '{name}'",
                )
            value, bounds = body[name], RANGES.get(name)
            if bounds and not (isinstance(value, int | float) and bounds[0] <= value <= bounds[1]):
                raise UsageError(f"{where}: {name} must be between {bounds[0]:g} and {bounds[1]:g}")
        self._check_thinking(where, body, policy)
        return body

    @staticmethod
    def _check_thinking(where: str, body: dict[str, Any], policy: ModelPolicy) -> None:
        mid = policy.model_id
        thinking, effort = body.get("thinking"), body.get("reasoning_effort")
        if thinking is not None and effort is not None:
            raise UsageError(
                f"{where}: thinking and reasoning_effort cannot both be set", hint="drop one"
            )
        if effort is not None and effort not in policy.efforts:
            takes = ", ".join(policy.efforts)
            raise UsageError(
                f"{where}: {mid} does not take reasoning_effort {effort!r}",
                hint=f"use one of: {takes}" if takes else "drop 'reasoning_effort'",
            )
        if thinking is None:
            return
        kind = thinking.get("type") if isinstance(thinking, dict) else None
        if kind not in ("enabled", "disabled"):
            raise UsageError(f"{where}: thinking.type must be enabled or disabled")
        if policy.efforts or (policy.thinking == "only" and kind == "disabled"):
            raise UsageError(f"{where}: {mid} takes no thinking field", hint="drop 'thinking'")
        if policy.thinking == "no" and kind == "enabled":
            raise UsageError(f"{where}: {mid} does not reason", hint="drop 'thinking'")

    def _check_context(self, item: InputItem, model: Model, body: dict[str, Any]) -> None:
        context = model.context_length
        if not context or self.count_tokens is None:
            return
        messages = body["messages"]
        size = sum(len(str(m.get("content", "")).encode()) for m in messages)
        if size <= MEASURE_ABOVE_BYTES:
            return
        tokens = self.count_tokens(model.id, messages)
        budget = body.get("max_completion_tokens") or 0
        if tokens < context and item.body is None and self.options.max_tokens is None:
            if budget:  # the default reasoning budget shrinks to fit, as in chat
                body["max_completion_tokens"] = min(budget, context - tokens)
            return
        if tokens >= context or tokens + budget > context:
            asked = f" + {budget:,} for the answer" if budget else ""
            raise UsageError(
                f"{item.where}: the request is {tokens:,} tokens{asked}; "
                f"{model.id} takes at most {context:,}",
                hint="shorten this input or lower --max-tokens",
            )
