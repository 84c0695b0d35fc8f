"""Turn HTTP answers and transport failures into the KimiError tree.

This is where the HTTP layer ends: nothing above sees an httpx exception or a raw
status code. What a 404 means for a *model* is decided above (catalog, conversation);
here it is only "not found", with the API's own message kept.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any
from urllib import request as urllib_request
from urllib.parse import urlsplit

import httpx

from kimi_cli.errors import (
    APIRequestError,
    AuthError,
    ConfigError,
    KimiError,
    NotFoundError,
    QuotaError,
    TemporaryError,
    UnexpectedResponseError,
)

REQUEST_ID_HEADERS = ("x-trace-id", "msh-request-id", "x-msh-trace-id", "x-request-id")
#: Where a 429 says how long to wait, in seconds: live rate-limit answers carry all three
#: (docs/api-notes.md#rate-limits); a proxy may pass only some of them on.
RETRY_AFTER_HEADERS = ("retry-after", "x-retry-after", "msh-cooldown-seconds")
_TRY_AGAIN = re.compile(r"try again after (\d+(?:\.\d+)?) ?s", re.IGNORECASE)
_BALANCE_WORDS = re.compile(r"balance|recharge|quota|suspended", re.IGNORECASE)
_MAX_SHOWN = 300
_RECHARGE = (
    "recharge on platform.kimi.ai (global) or platform.kimi.com (cn), then check with "
    "'kimi balance'"
)
_CHECK_KEY = "check the key and its region"
_WHICH = "'kimi doctor' finds out which"
_REPHRASE = "rephrase the input"
_KEPT = "the partial answer was kept"


def request_id_of(headers: httpx.Headers) -> str | None:
    for name in REQUEST_ID_HEADERS:
        value: str | None = headers.get(name)
        if value:
            return value
    return None


def parse_envelope(body: bytes) -> tuple[str | None, str | None, bool]:
    """(type, message, is_json) from a Moonshot error body ``{"error": {type, message}}``."""
    try:
        data: Any = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None, None, False
    if isinstance(data, Mapping):
        inner = data.get("error", data)
        if isinstance(inner, Mapping):
            kind = inner.get("type")
            message = inner.get("message")
            return (
                kind if isinstance(kind, str) else None,
                message if isinstance(message, str) else None,
                True,
            )
        if isinstance(inner, str):
            return None, inner, True
    return None, None, True


def retry_after_of(headers: httpx.Headers, message: str | None) -> float | None:
    """Seconds to wait: a retry header (``RETRY_AFTER_HEADERS``, the first that holds a
    number), else "try again after N seconds" in the message."""
    for name in RETRY_AFTER_HEADERS:
        value = headers.get(name)
        if value:
            try:
                seconds = float(value)
            except ValueError:
                continue  # an HTTP date: rare here; the next header, or the message
            if math.isfinite(seconds):
                return max(0.0, seconds)
    if message:
        match = _TRY_AGAIN.search(message)
        if match:
            return float(match.group(1))
    return None


def error_from_response(
    status: int, headers: httpx.Headers, body: bytes, path: str = "chat/completions"
) -> KimiError:
    """``path`` (relative to the base URL) only picks words: a model is overloaded on chat,
    the API on any other endpoint. The API's own message is kept as ``api_message``, for a
    caller that words the line itself (a refused upload names the file)."""
    kind, message, is_json = parse_envelope(body)
    error = _error(status, headers, body, path, kind, message, is_json)
    error.api_message = message
    return error


def _error(
    status: int,
    headers: httpx.Headers,
    body: bytes,
    path: str,
    kind: str | None,
    message: str | None,
    is_json: bool,
) -> KimiError:
    request_id = request_id_of(headers)
    content_type = headers.get("content-type", "")
    shown = _shorten(message) if message else None
    common: dict[str, Any] = {"request_id": request_id, "status_code": status, "error_type": kind}

    if not is_json and ("html" in content_type or body.lstrip()[:1] == b"<"):
        what = f"the server answered HTTP {status} with an HTML page, not the Kimi API"
        if status >= 500:
            return TemporaryError(what, hint="a proxy or gateway failed; retry later", **common)
        return UnexpectedResponseError(what, **common)  # the hint is worded above

    if status == 400:
        if kind == "content_filter":
            return APIRequestError(
                "the request was rejected by Moonshot's content filter",
                hint=f"{_REPHRASE}; this is not retried",
                **common,
            )
        return APIRequestError(
            f"the API refused the request: {shown or 'HTTP 400'}",
            hint="check the options given (--debug shows the request)",
            **common,
        )
    if status == 401:
        if kind == "incorrect_api_key_error":  # the API saw no key it could read
            return AuthError(
                f"the API found no usable API key in the request ({shown or 'HTTP 401'})",
                hint="check that the whole key is set ('kimi config show' shows its ends) and "
                "that no proxy drops the Authorization header",
                **common,
            )
        return AuthError(
            f"the API key was refused ({shown or 'HTTP 401'})",
            hint=_CHECK_KEY,
            notes=(_WHICH,),
            **common,
        )
    if status == 403:
        if kind == "exceeded_current_quota_error" or (message and _BALANCE_WORDS.search(message)):
            return QuotaError(
                f"the account has no balance left ({shown})",
                hint=_RECHARGE,
                **common,
            )
        return AuthError(
            f"access denied: {shown or 'HTTP 403'}",
            hint="check the key's permissions and IP allow-list on the platform console",
            **common,
        )
    if status == 404:
        return NotFoundError(shown or "not found (HTTP 404)", **common)
    if status == 429:
        if kind == "exceeded_current_quota_error":
            return QuotaError(
                f"no balance or quota left ({shown})",
                hint=f"{_RECHARGE}; this is not retried",
                **common,
            )
        wait = retry_after_of(headers, message)
        if kind == "engine_overloaded_error":
            what = f"the {'model' if path.startswith('chat/') else 'API'} is overloaded (429)"
        else:
            what = f"rate limited: {shown or 'HTTP 429'}"
        return TemporaryError(what, hint=_later(wait), retry_after=wait, **common)
    if status >= 500 or status == 499:
        wait = retry_after_of(headers, message)
        detail = shown or _shorten(body.decode("utf-8", "replace")) or f"HTTP {status}"
        if status == 504:
            what = f"the API timed out (HTTP 504: {detail})"
        else:
            what = f"the API failed (HTTP {status}: {detail})"
        return TemporaryError(what, hint=_later(wait), retry_after=wait, **common)
    return APIRequestError(
        f"the API refused the request (HTTP {status}: {shown or 'no details'})", **common
    )


def error_from_stream_event(data: Mapping[str, Any], request_id: str | None) -> KimiError:
    """An ``{"error": …}`` object inside a stream, classified by its type (default: temporary)."""
    inner = data.get("error")
    kind = inner.get("type") if isinstance(inner, Mapping) else None
    message = inner.get("message") if isinstance(inner, Mapping) else inner
    text = _shorten(message) if isinstance(message, str) else "an error arrived in the stream"
    common: dict[str, Any] = {"request_id": request_id, "error_type": kind}
    # Each says what to do, as the same error before the answer would, and that what
    # arrived before it was kept.
    if kind == "exceeded_current_quota_error":
        return QuotaError(
            f"no balance or quota left ({text})", hint=_RECHARGE, notes=(_KEPT,), **common
        )
    if kind in {"invalid_authentication_error", "incorrect_api_key_error"}:
        return AuthError(
            f"the API key was refused ({text})",
            hint=_CHECK_KEY,
            notes=(_KEPT, _WHICH),
            **common,
        )
    if kind == "content_filter":
        return APIRequestError(
            f"Moonshot's content filter stopped the answer ({text})",
            hint=_REPHRASE,
            notes=(_KEPT,),
            **common,
        )
    if kind == "invalid_request_error":
        return APIRequestError(
            f"the API stopped the answer: {text}",
            hint="check the options given",
            notes=(_KEPT,),
            **common,
        )
    return TemporaryError(
        f"the stream broke off: {text}", hint="retry later", notes=(_KEPT,), **common
    )


def error_from_transport(
    exc: httpx.TransportError, url: str, timeout: float, connect_timeout: float | None = None
) -> KimiError:
    """``timeout`` is the read timeout in force; ``connect_timeout`` the connect one.

    An untrusted certificate is a setting to fix (a corporate CA), not a passing fault:
    it is a configuration error, and never retried."""
    if "CERTIFICATE_VERIFY_FAILED" in str(exc):
        return ConfigError(
            f"the TLS certificate of {url} is not trusted",
            hint="set SSL_CERT_FILE to the CA bundle that signs it (a corporate proxy has its own)",
        )
    hint = "check the network, the proxy and the base URL, then retry"
    notes: tuple[str, ...] = ("'kimi doctor' checks them",)
    proxy = _proxy_for(url)
    if proxy and not isinstance(exc, httpx.ProxyError):
        url = f"{url} through the proxy {proxy}"  # it may be the proxy that is not there
    if isinstance(exc, httpx.ConnectTimeout):
        what = f"could not connect to {url} within {connect_timeout or timeout:g} s"
    elif isinstance(exc, httpx.ReadTimeout):
        what = f"no data from {url} for {timeout:g} s"
        hint, notes = "retry later, or raise --timeout if the API is just slow", ()
    elif isinstance(exc, httpx.TimeoutException):
        what = f"timed out talking to {url}"
    elif isinstance(exc, httpx.ConnectError):
        what = f"could not connect to {url} ({_reason(exc)})"
    elif isinstance(exc, httpx.ProxyError):
        what = f"the proxy failed for {url} ({_reason(exc)})"
    else:
        what = f"the connection to {url} failed ({_reason(exc)})"
    return TemporaryError(what, hint=hint, notes=notes)


def _proxy_for(url: str) -> str | None:
    """The proxy the environment sets for ``url`` (as httpx uses it), without credentials."""
    parts = urlsplit(url)
    proxies = urllib_request.getproxies_environment()
    bypass = getattr(urllib_request, "proxy_bypass_environment")  # noqa: B009 (not in typeshed)
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if not proxy or bypass(parts.hostname or "", proxies):
        return None
    found = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    host = found.hostname or "?"
    return f"{found.scheme}://{host}" + (f":{found.port}" if found.port else "")


def describe_transport(exc: httpx.TransportError) -> str:
    """What went wrong on the wire, in words: never an exception's class name.

    A broken connection is said in our words (httpx's text for it is protocol jargon);
    a failure to connect keeps httpx's text, which names the cause (DNS, refused)."""
    for kind, words in _TRANSPORT_WORDS:
        if isinstance(exc, kind):
            return words
    text = str(exc).strip()
    if text:
        return _shorten(text.splitlines()[0])
    if isinstance(exc, httpx.TimeoutException):
        return "the connection timed out"
    return "the connection failed"


_TRANSPORT_WORDS: tuple[tuple[type[httpx.TransportError], str], ...] = (
    (httpx.RemoteProtocolError, "the server closed the connection before the answer was complete"),
    (httpx.LocalProtocolError, "the request could not be sent as it was built"),
    (httpx.ReadError, "the connection was lost while reading the answer"),
    (httpx.WriteError, "the connection was lost while sending the request"),
)


def _reason(exc: httpx.TransportError) -> str:
    text = describe_transport(exc)
    if "Name or service not known" in text or "nodename nor servname" in text:
        return "DNS lookup failed"
    if "getaddrinfo failed" in text or "Temporary failure in name resolution" in text:
        return "DNS lookup failed"
    if "Connection refused" in text or "Errno 111" in text:
        return "connection refused: nothing is listening there"
    return text


def _later(wait: float | None) -> str:
    if wait is None:
        return "retry later"
    return f"retry in {wait:g} s"


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "…"
