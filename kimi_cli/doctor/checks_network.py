"""Checks that go over the network: DNS, TCP, TLS, then the API itself.

Each one says what it saw and how long it took; each is skipped when an earlier failure means
its answer would say nothing new (no key, an unreachable host, no model list).
"""

from __future__ import annotations

import socket
import ssl
import time
from typing import Any
from urllib.parse import urlsplit

from kimi_cli.account import (
    describe_balance,
    format_cost,
    negative_cash_note,
    no_balance_error,
    recharge_hint,
)
from kimi_cli.api.types import Usage
from kimi_cli.catalog.access import fitted_model_hint, list_models_checked
from kimi_cli.catalog.ids import find_model, not_found_error
from kimi_cli.catalog.policy import ChatOptions, build_body, policy_for
from kimi_cli.catalog.region_probe import RegionProbe
from kimi_cli.catalog.retirements import retirement_notice, successor_for
from kimi_cli.config_store import Source
from kimi_cli.doctor.report import (
    NO_SETTINGS,
    Check,
    DoctorContext,
    Findings,
    failed,
    from_error,
    passed,
    skipped,
    warned,
)
from kimi_cli.errors import (
    ExitCode,
    KimiError,
    NotFoundError,
    UnexpectedResponseError,
    WrongRegionError,
)
from kimi_cli.hints import base_url_fix, model_fix, region_fix
from kimi_cli.pricing import cost_of

#: The round trip's budget and prompt: the smallest request a model still has to accept.
CHAT_BUDGET = 16
CHAT_PROMPT = "Reply with one word: OK"
#: Efforts from cheapest to dearest; the doctor asks for the cheapest the model lists.
EFFORT_ORDER = ("minimal", "low", "medium", "high", "max")
_PROXY_NOTE = "a proxy is set: this direct check may not reflect the proxied path"


def _ms(seconds: float) -> str:
    millis = seconds * 1000
    return f"{millis:.1f} ms" if millis < 10 else f"{millis:,.0f} ms"


class _Timer:
    """``with _Timer() as t:`` … ``t.seconds`` is how long the block took."""

    def __enter__(self) -> _Timer:
        self.seconds = 0.0
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self._start


def _host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)


def _network_skip(ctx: DoctorContext, found: Findings) -> str | None:
    if ctx.settings is None:
        return NO_SETTINGS
    if not found.endpoint_ok:
        return "skipped: the base URL is not the Open Platform (see endpoint)"
    if not found.reachable:
        return "skipped: the host cannot be reached (see the checks above)"
    return None


def _unreachable(
    ctx: DoctorContext, found: Findings, id: str, title: str, detail: str, fix: str
) -> Check:
    """A direct connection failed: fatal without a proxy, a warning with one."""
    if found.proxy is not None:
        return warned(id, title, f"{detail}; {_PROXY_NOTE}", "if the API checks fail too: " + fix)
    found.reachable = False
    return failed(id, title, detail, fix, ExitCode.TEMPORARY)


# -- 4. DNS, TCP, TLS -----------------------------------------------------------------------


def check_dns(ctx: DoctorContext, found: Findings) -> Check:
    title = "DNS"
    reason = _network_skip(ctx, found)
    if reason or ctx.settings is None:
        return skipped("dns", title, reason or NO_SETTINGS)
    host, port = _host_port(ctx.settings.base_url)
    try:
        with _Timer() as elapsed:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        detail = f"cannot resolve {host}: {getattr(exc, 'strerror', None) or exc}"
        fix = "check the network and DNS, or set HTTPS_PROXY when a proxy is required"
        return _unreachable(ctx, found, "dns", title, detail, fix)
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    shown = ", ".join(addresses[:3]) + (", …" if len(addresses) > 3 else "")
    detail = f"{host} → {shown} in {_ms(elapsed.seconds)}"
    if found.proxy is not None:
        detail = f"{detail}; {_PROXY_NOTE}"
    return passed("dns", title, detail)


def check_tcp(ctx: DoctorContext, found: Findings) -> Check:
    title = "TCP connection"
    reason = _network_skip(ctx, found)
    if reason or ctx.settings is None:
        return skipped("tcp", title, reason or NO_SETTINGS)
    host, port = _host_port(ctx.settings.base_url)
    try:
        with _Timer() as elapsed:
            socket.create_connection((host, port), timeout=ctx.network_timeout).close()
    except OSError as exc:
        detail = f"cannot connect to {host}:{port}: {exc.strerror or exc}"
        fix = "check the network, a firewall, or whether a proxy is required (HTTPS_PROXY)"
        return _unreachable(ctx, found, "tcp", title, detail, fix)
    detail = f"{host}:{port} in {_ms(elapsed.seconds)}"
    if found.proxy is not None:
        detail = f"{detail}; {_PROXY_NOTE}"
    return passed("tcp", title, detail)


def tls_context(ctx: DoctorContext) -> ssl.SSLContext:
    """The certificates httpx trusts with ``trust_env``: SSL_CERT_FILE, SSL_CERT_DIR, certifi."""
    cafile = ctx.env.get("SSL_CERT_FILE", "").strip()
    capath = ctx.env.get("SSL_CERT_DIR", "").strip()
    if cafile:
        return ssl.create_default_context(cafile=cafile)
    if capath:
        return ssl.create_default_context(capath=capath)
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def check_tls(ctx: DoctorContext, found: Findings) -> Check:
    title = "TLS handshake"
    reason = _network_skip(ctx, found)
    if reason or ctx.settings is None:
        return skipped("tls", title, reason or NO_SETTINGS)
    if urlsplit(ctx.settings.base_url).scheme != "https":
        return skipped("tls", title, "plain HTTP: no TLS (fine for a local emulator)")
    host, port = _host_port(ctx.settings.base_url)
    try:
        context = tls_context(ctx)
    except (ssl.SSLError, OSError) as exc:
        detail = f"the CA certificates cannot be loaded: {exc}"
        return failed("tls", title, detail, "see the certificates check", ExitCode.CONFIG)
    try:
        with _Timer() as elapsed:
            raw = socket.create_connection((host, port), timeout=ctx.network_timeout)
            with context.wrap_socket(raw, server_hostname=host) as tls:
                version = tls.version() or "TLS"
    except ssl.SSLCertVerificationError as exc:
        detail = f"the certificate of {host} is not trusted: {exc.verify_message or exc}"
        fix = (
            "behind a TLS-inspecting proxy (Zscaler, a corporate CA)? "
            "export SSL_CERT_FILE=/path/to/your-ca-bundle.pem"
        )
        if found.proxy is not None:
            return warned("tls", title, f"{detail}; {_PROXY_NOTE}", fix)
        return failed("tls", title, detail, fix, ExitCode.CONFIG)
    except (ssl.SSLError, OSError) as exc:
        detail = f"TLS with {host}:{port} failed: {getattr(exc, 'strerror', None) or exc}"
        return _unreachable(ctx, found, "tls", title, detail, "check the network and any proxy")
    detail = f"{version} with {host} in {_ms(elapsed.seconds)}"
    if found.proxy is not None:
        detail = f"{detail}; {_PROXY_NOTE}"
    return passed("tls", title, detail)


# -- 5-8. the API ---------------------------------------------------------------------------


def _api_skip(ctx: DoctorContext, found: Findings) -> str | None:
    if ctx.settings is None:
        return NO_SETTINGS
    if not found.key_ok:
        return "skipped: needs a usable API key (see key)"
    return _network_skip(ctx, found)


def check_models(ctx: DoctorContext, found: Findings) -> Check:
    title = "GET /v1/models"
    reason = _api_skip(ctx, found)
    settings = ctx.settings
    if reason or settings is None or not settings.api_key:
        return skipped("models", title, reason or NO_SETTINGS)
    key = settings.api_key
    try:
        client = ctx.client_factory(settings.base_url, key)
        with _Timer() as elapsed:
            models = list_models_checked(
                client,
                api_key=key,
                cache=ctx.model_cache,
                find_other_region=RegionProbe(settings, key, ctx.client_factory).find,
                base_url_source=settings.base_url_source,
            )
    except WrongRegionError as exc:
        check = from_error("models", title, exc)
        fix = region_fix(exc.region, settings.base_url_source)
        return failed("models", title, check.detail, fix, exc.exit_code)
    except KimiError as exc:
        return from_error("models", title, exc)
    except ValueError as exc:  # httpx refuses a proxy URL from the environment
        detail = f"no HTTP client can be made: {exc}"
        return failed("models", title, detail, "fix the proxy variables (see proxy)", 3)
    found.models = models
    ids = [m.id for m in models]
    listed = ", ".join(ids[:6]) + (", …" if len(ids) > 6 else "")
    if not ids:
        fix = "check the account on its platform: this key sees no model at all"
        return warned("models", title, f"200 OK in {_ms(elapsed.seconds)}, but no models", fix)
    return passed("models", title, f"{len(ids)} models in {_ms(elapsed.seconds)}: {listed}")


def check_model(ctx: DoctorContext, found: Findings) -> Check:
    title = "Configured model"
    settings, models = ctx.settings, found.models
    if settings is None or models is None:
        return skipped("model", title, "skipped: needs the live model list (see models)")
    ids = [m.id for m in models]
    if not settings.model:
        fix = "pick one: kimi models use ID (available: " + ", ".join(ids) + ")"
        return failed("model", title, "no model configured", fix, ExitCode.CONFIG)
    source = settings.model_source
    model = find_model(settings.model, models)
    if model is None:
        error = not_found_error(settings.model, models)
        fix = fitted_model_hint(error, settings.model, ids, source) or ""
        detail = f"{error.message} (from {source or 'somewhere'})"
        return failed("model", title, detail, fix, ExitCode.MODEL_NOT_FOUND)
    found.model = model
    policy = policy_for(model)
    facts = [f"context {model.context_length:,} tokens" if model.context_length else "context ?"]
    facts.append(f"reasoning: {policy.thinking}")
    if policy.efforts:
        facts.append("efforts " + "/".join(policy.efforts))
    detail = f"{model.id} (from {source}): " + ", ".join(facts)
    notice = retirement_notice(model.id, ids)
    if notice is not None:
        successor, _ = successor_for(model.id, ids)
        move = model_fix(source, successor, f"kimi models use {successor}") if successor else None
        return warned(
            "model", title, f"{detail}. {notice}", move or "pick another model: kimi models"
        )
    return passed("model", title, detail)


def check_balance(ctx: DoctorContext, found: Findings) -> Check:
    title = "Balance"
    settings = ctx.settings
    if settings is None or found.models is None or not settings.api_key:
        return skipped("balance", title, "skipped: needs a working key and API (see models)")
    try:
        balance = ctx.client_factory(settings.base_url, settings.api_key).balance()
    except (NotFoundError, UnexpectedResponseError) as exc:
        if settings.region is not None:
            return from_error("balance", title, exc)
        detail = f"this base URL has no balance endpoint ({exc.message}): a gateway?"
        return warned("balance", title, detail, "check the balance where the gateway bills you")
    except KimiError as exc:
        return from_error("balance", title, exc)
    text = describe_balance(balance, settings.currency)
    if balance.available <= 0:
        found.no_balance = True
        error = no_balance_error(balance, settings.currency, settings.region)
        return failed("balance", title, f"{error.message}; {text}", error.hint, error.exit_code)
    if balance.cash < 0:
        note = negative_cash_note(balance, settings.currency)
        return warned("balance", title, f"{text}; {note}", recharge_hint(settings.region))
    return passed("balance", title, text)


def lowest_effort(efforts: tuple[str, ...]) -> str | None:
    ranked = [e for e in EFFORT_ORDER if e in efforts]
    return ranked[0] if ranked else (efforts[0] if efforts else None)


def _cost(usage: Usage, model_id: str, currency: str | None) -> str:
    cost = cost_of(usage, model_id, currency)
    if cost is None:
        return f"cost unknown (no listed price for {model_id} in {currency or 'this currency'})"
    return f"cost {format_cost(cost.amount, cost.currency)}"


def _chat_failed(error: KimiError, base_url: str, source: Source | None) -> Check:
    """The chat check's failure: an answer that is not the API's gets the base URL's fix, as
    GET /models does (the HTTP layer leaves it without one)."""
    check = from_error("chat", "Chat round trip", error)
    if not isinstance(error, (UnexpectedResponseError, NotFoundError)) or error.hint:
        return check
    fix = base_url_fix(base_url, source)
    return failed(check.id, check.title, check.detail, fix, check.exit_code)


def check_chat(ctx: DoctorContext, found: Findings) -> Check:
    title = "Chat round trip"
    settings, model = ctx.settings, found.model
    if not ctx.chat:
        return skipped("chat", title, "skipped (--no-chat)")
    if settings is None or model is None or not settings.api_key:
        return skipped("chat", title, "skipped: needs a verified model (see model)")
    if found.no_balance:
        return skipped("chat", title, "skipped: no balance (see balance)")
    policy = policy_for(model)
    effort = lowest_effort(policy.efforts)
    thinking = False if policy.thinking == "both" and effort is None else None
    options = ChatOptions(max_tokens=CHAT_BUDGET, effort=effort, thinking=thinking)
    messages: list[dict[str, Any]] = [{"role": "user", "content": CHAT_PROMPT}]
    content: list[str] = []
    finish: str | None = None
    usage: Usage | None = None
    try:
        body = build_body(policy, messages, options)
        client = ctx.client_factory(settings.base_url, settings.api_key)
        with _Timer() as elapsed, client.stream_chat(body) as stream:
            for chunk in stream:
                content.append(chunk.content)
                finish = chunk.finish_reason or finish
                usage = chunk.usage or usage
    except KimiError as exc:
        return _chat_failed(exc, settings.base_url, settings.base_url_source)
    spent = usage or Usage(input_tokens=len(CHAT_PROMPT) // 3 + 8, output_tokens=CHAT_BUDGET)
    asked = f"{model.id}, {CHAT_BUDGET}-token budget" + (f", effort {effort}" if effort else "")
    cost = _cost(spent, model.id, settings.currency)
    tokens = f"{spent.input_tokens} in / {spent.output_tokens} out tokens"
    answer = "".join(content).strip()
    if answer:
        said = f"answered {answer[:40]!r}"
    elif finish == "length":
        said = "accepted; the budget cut the answer short (finish_reason length), as intended"
    else:
        said = f"accepted; empty answer (finish_reason {finish or 'none'})"
    detail = f"{asked}: {said} ({_ms(elapsed.seconds)}); {tokens}, {cost}"
    return passed("chat", title, detail)
