"""Request policy: what each model accepts, and the request body built from it.

Where a fact comes from, in order: the model's own ``/models`` metadata, then the family
table below (each row with its source), then the safe default for an unknown model (no
sampling parameters, no thinking fields unless asked). A flag the model does not take is
refused before anything is sent, naming the flag; it is never dropped silently.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from kimi_cli.api.types import Model
from kimi_cli.errors import UsageError

if TYPE_CHECKING:
    from kimi_cli.schema import OutputSchema

ThinkingMode = Literal["only", "both", "no", "unknown"]

#: Output budget sent to reasoning models when the user gives none: reasoning and answer
#: share ``max_completion_tokens``, and a small server default can leave an empty answer
#: (docs/api-notes.md#model-rules recommends at least 16k).
DEFAULT_REASONING_BUDGET = 32_768


@dataclass(frozen=True)
class Family:
    prefix: str
    thinking: ThinkingMode
    thinking_param: bool  # does the model take the ``thinking`` field?
    efforts: tuple[str, ...]
    default_effort: str | None
    fixed_sampling: bool
    keep_reasoning: bool  # must assistant turns carry their reasoning_content back?
    source: str


_NOTES = "docs/api-notes.md#model-rules"
_K3 = f"{_NOTES} (third-party, citing the K3 quickstart)"
_OFFICIAL = f"{_NOTES} (official)"
FAMILIES: tuple[Family, ...] = (
    Family("kimi-k3", "only", False, ("low", "high", "max"), "max", True, True, _K3),
    Family("kimi-k2.7-code", "only", False, (), None, True, True, _NOTES),
    Family("kimi-k2.6", "both", True, (), None, True, False, _OFFICIAL),
    Family("kimi-k2.5", "both", True, (), None, True, False, _OFFICIAL),
    Family("kimi-k2-thinking", "only", False, (), None, False, True, _NOTES),
    Family("kimi-k2-", "no", False, (), None, False, False, _NOTES),
    Family("moonshot-v1", "no", False, (), None, False, False, _NOTES),
    Family("kimi-latest", "no", False, (), None, False, False, _NOTES),
)


@dataclass(frozen=True)
class ModelPolicy:
    model_id: str
    thinking: ThinkingMode
    thinking_param: bool
    efforts: tuple[str, ...]
    default_effort: str | None
    fixed_sampling: bool | None  # None: unknown model, sampling sent only when asked
    keep_reasoning: bool
    image_in: bool | None
    #: ``supports_tool_use`` from /models (Moonshot's own client defaults it to true).
    tool_use: bool | None
    context_length: int | None
    source: str

    @property
    def reasons(self) -> bool:
        return self.thinking in ("only", "both")


@dataclass(frozen=True)
class ChatOptions:
    thinking: bool | None = None
    effort: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    json_object: bool = False
    #: ``--schema``: the answer must be a JSON document of this schema.
    schema: OutputSchema | None = None
    #: ``--web-search``: the search Formula's tools go with every request of a turn.
    web_search: bool = False
    #: Searches one turn may run before it stops (``--max-searches``).
    max_searches: int = 5


_THINKING_MODES: dict[str, ThinkingMode] = {"only": "only", "both": "both", "no": "no"}


def family_of(model_id: str) -> Family | None:
    return next((f for f in FAMILIES if model_id.startswith(f.prefix)), None)


def policy_for(model: Model) -> ModelPolicy:
    family = family_of(model.id)
    thinking: ThinkingMode = "unknown"
    meta = _THINKING_MODES.get(model.supports_thinking_type or "")
    if meta is not None:
        thinking = meta
    elif family is not None:
        thinking = family.thinking
    elif model.supports_reasoning is False:
        thinking = "no"
    efforts: tuple[str, ...] = family.efforts if family else ()
    default_effort = family.default_effort if family else None
    if model.think_efforts is not None:
        efforts = model.think_efforts.valid_efforts if model.think_efforts.support else ()
        default_effort = model.think_efforts.default_effort
    sources = ["/models metadata"]
    if family:
        sources.append(f"family {family.prefix}*: {family.source}")
    return ModelPolicy(
        model_id=model.id,
        thinking=thinking,
        # A model with efforts takes reasoning_effort, never thinking (they conflict).
        thinking_param=(family.thinking_param if family else thinking == "both") and not efforts,
        efforts=efforts,
        default_effort=default_effort,
        fixed_sampling=family.fixed_sampling if family else None,
        keep_reasoning=family.keep_reasoning if family else thinking == "only",
        image_in=model.supports_image_in,
        tool_use=_flag(model.raw.get("supports_tool_use")),
        context_length=model.context_length,
        source="; ".join(sources),
    )


def check_options(policy: ModelPolicy, options: ChatOptions) -> None:
    """Refuse, before sending, every flag this model does not take."""
    mid = policy.model_id
    if options.effort is not None:
        if not policy.efforts:
            raise UsageError(
                f"{mid} has no reasoning efforts", hint="drop --effort — see 'kimi chat --help'"
            )
        if options.effort not in policy.efforts:
            raise UsageError(
                f"--effort {options.effort} is not one {mid} takes",
                hint="use one of: " + ", ".join(policy.efforts),
            )
        if options.thinking is False:
            raise UsageError("--effort and --no-thinking contradict each other", hint="drop one")
    if options.thinking is False and policy.thinking == "only":
        raise UsageError(f"{mid} always thinks", hint="drop --no-thinking")
    if options.thinking is True and policy.thinking == "no":
        raise UsageError(f"{mid} does not reason", hint="drop --thinking")
    if options.temperature is not None:
        if policy.fixed_sampling:
            raise UsageError(
                f"{mid} fixes its sampling on the server; it takes no temperature",
                hint="drop --temperature",
            )
        if not 0.0 <= options.temperature <= 1.0:
            raise UsageError(
                f"--temperature {options.temperature:g} is outside 0..1 (Moonshot's range)",
                hint="use a value between 0 and 1",
            )
    if options.max_tokens is not None and options.max_tokens < 1:
        raise UsageError("--max-tokens must be at least 1")
    if options.schema is not None and options.json_object:
        raise UsageError("--format json and --schema both ask for JSON", hint="use --schema alone")
    if options.max_searches < 1:
        raise UsageError("--max-searches must be at least 1")
    if options.web_search and policy.tool_use is False:
        raise UsageError(
            f"{mid} takes no tools, so it cannot search the web",
            hint="drop --web-search, or pick a model that takes tools ('kimi models')",
        )


def build_body(
    policy: ModelPolicy,
    messages: Sequence[Mapping[str, Any]],
    options: ChatOptions,
    *,
    input_tokens: int | None = None,
) -> dict[str, Any]:
    """The request body: only fields the model accepts; never both thinking and effort."""
    check_options(policy, options)
    body: dict[str, Any] = {"model": policy.model_id, "messages": list(messages)}
    if options.effort is not None:
        body["reasoning_effort"] = options.effort
    elif options.thinking is not None and policy.thinking == "both" and policy.thinking_param:
        body["thinking"] = {"type": "enabled" if options.thinking else "disabled"}
    elif options.thinking is True and policy.thinking == "unknown":
        body["thinking"] = {"type": "enabled"}
    if options.temperature is not None:
        body["temperature"] = options.temperature
    budget = options.max_tokens
    thinks = policy.thinking == "only" or (
        policy.thinking == "both" and options.thinking is not False
    )
    if budget is None and thinks:
        budget = DEFAULT_REASONING_BUDGET
        if policy.context_length and input_tokens is not None:
            budget = max(1, min(budget, policy.context_length - input_tokens))
    if budget is not None:
        body["max_completion_tokens"] = budget
    if options.json_object:
        body["response_format"] = {"type": "json_object"}
    elif options.schema is not None:
        body["response_format"] = options.schema.response_format()
    return body


def _flag(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


# A 400 that names a parameter -> the flag that set it (docs/api-notes.md#model-rules).
PARAMETER_FLAGS: tuple[tuple[str, str], ...] = (
    ("reasoning_effort", "--effort"),
    ("temperature", "--temperature"),
    ("thinking", "--thinking/--no-thinking"),
    ("max_completion_tokens", "--max-tokens"),
    ("max_tokens", "--max-tokens"),
    ("token limit", "--max-tokens"),
    ("json_schema", "--schema"),
    ("response_format", "--format"),
    ("invalid tools", "--web-search"),
    ("image", "-f (an image file)"),
)


def flag_for_message(message: str) -> str | None:
    lowered = message.lower()
    return next((flag for word, flag in PARAMETER_FLAGS if word in lowered), None)
