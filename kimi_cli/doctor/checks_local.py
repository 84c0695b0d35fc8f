"""Checks that need no network: the config file, the key, the base URL, the environment.

Each check is ``(ctx, found) -> Check``; ``found`` records what later checks depend on.
"""

from __future__ import annotations

import os
import re
import ssl
import stat
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from kimi_cli.catalog.access import is_kimi_code_key, kimi_code_key_error
from kimi_cli.config import ConfigStore, consoles_phrase, mask_key
from kimi_cli.config_store import SourceKind
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
from kimi_cli.errors import ExitCode, KimiError, os_error_fix

#: The variables this kimi reads; any other KIMI_* is someone else's, or a typo.
OUR_VARS = frozenset(
    {
        "KIMI_API_KEY",
        "KIMI_BASE_URL",
        "KIMI_REGION",
        "KIMI_GLOBAL_BASE_URL",
        "KIMI_CN_BASE_URL",
        "KIMI_MODEL",
        "KIMI_CONFIG_DIR",
        "KIMI_DATA_DIR",
        "KIMI_CACHE_DIR",
        "KIMI_MAX_RETRIES",
        "KIMI_TIMEOUT",
        "KIMI_DEBUG",
    }
)
#: Read by Moonshot's own coding agents (kimi-cli, Kimi Code), not by this kimi.
AGENT_VARS = frozenset(
    {"KIMI_MODEL_API_KEY", "KIMI_SHARE_DIR", "KIMI_CODE_HOME", "KIMI_CLI_NO_AUTO_UPDATE"}
)
AGENT_PREFIXES = ("KIMI_MODEL_", "KIMI_CLI_", "KIMI_CODE_")
PROXY_VARS = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")
PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


# -- 1. config file -------------------------------------------------------------------------


def check_config(ctx: DoctorContext, found: Findings) -> Check:
    title = "Configuration"
    path = ctx.config_path
    try:
        info = path.stat()
    except FileNotFoundError:
        info = None
    except OSError as exc:
        detail = f"{path} cannot be read: {exc.strerror or exc}"
        return failed("config", title, detail, os_error_fix(exc, path), ExitCode.CONFIG)
    store = ConfigStore(path)
    if info is not None:
        try:
            store.load()
        except KimiError as exc:
            return from_error("config", title, exc)
    if ctx.settings_error is not None:
        return from_error("config", title, ctx.settings_error)
    if info is None:
        detail = f"no file at {path}: settings come from the environment and defaults"
        return passed("config", title, detail)
    notes: list[str] = []
    fixes: list[str] = []
    unknown = store.unknown_keys()
    if unknown:
        notes.append("unknown keys (ignored): " + ", ".join(unknown))
        fixes.append("remove or rename them (kimi config show lists the keys)")
    if ctx.windows:
        shown = f"{path} (permissions not checked on Windows)"
    else:
        file_mode = stat.S_IMODE(info.st_mode)
        dir_mode = stat.S_IMODE(path.parent.stat().st_mode)
        shown = f"{path} (mode {file_mode:04o}, directory {dir_mode:04o})"
        if file_mode & 0o077:
            notes.append(
                f"the file is mode {file_mode:04o}: others may read it (it can hold a key)"
            )
            fixes.append(f"chmod 600 {path}")
        if dir_mode & 0o077:
            notes.append(f"its directory is mode {dir_mode:04o}")
            fixes.append(f"chmod 700 {path.parent}")
    if notes:
        return warned("config", title, f"{shown}; " + "; ".join(notes), "; ".join(fixes))
    return passed("config", title, shown)


# -- 2. key, base URL, stray variables ------------------------------------------------------


def check_key(ctx: DoctorContext, found: Findings) -> Check:
    title = "API key"
    settings = ctx.settings
    if settings is None:
        return skipped("key", title, NO_SETTINGS)
    if ctx.key_error is not None:
        error = ctx.key_error
        fix = error.hint or "run the api_key_cmd of your config file yourself to see why"
        return failed("key", title, error.message, fix, error.exit_code)
    key, source = settings.api_key, settings.api_key_source
    if not key:
        detail = (
            "no API key (not in KIMI_API_KEY, MOONSHOT_API_KEY, the config file or api_key_cmd)"
        )
        fix = "run 'kimi setup' (or set KIMI_API_KEY)"
        return failed("key", title, detail, fix, ExitCode.CONFIG)
    shown = f"{mask_key(key)} from {source}"
    if settings.api_key_store and source is not None and source.kind is SourceKind.KEYRING:
        shown = f"{shown} (the OS keychain, as api_key_store in the config file says)"
    if is_kimi_code_key(key):
        error = kimi_code_key_error()
        fix = str(error.hint)
        if source is not None and source.is_env:
            fix = f"{fix}; then {source.unset_fix('api_key')} or set it to that key"
        else:
            fix = f"{fix}; then save it: kimi setup --key-stdin"
        return failed("key", title, f"{shown}: {error.message}", fix, ExitCode.AUTH)
    found.key_ok = True
    notes: list[str] = []
    fixes: list[str] = []
    if settings.saved_api_key_overridden and source is not None:
        if settings.api_key_store:
            saved = "the key saved in the OS keychain"
        elif settings.api_key_cmd:
            saved = "api_key_cmd"
        else:
            saved = "the key saved in the config file"
        notes.append(f"{source.name} overrides {saved}")
        fixes.append(f"unset {source.name} to use the saved key, or save this one: kimi setup")
    kimi_env = ctx.env.get("KIMI_API_KEY", "").strip()
    moonshot_env = ctx.env.get("MOONSHOT_API_KEY", "").strip()
    if kimi_env and moonshot_env and kimi_env != moonshot_env:
        notes.append("MOONSHOT_API_KEY differs and is ignored (KIMI_API_KEY wins)")
        fixes.append("unset one of them")
    if not key.startswith("sk-"):
        notes.append("it does not look like a Moonshot key (they start with sk-)")
        fixes.append(f"copy the key again from {consoles_phrase()}")
    if notes:
        return warned("key", title, f"{shown}; " + "; ".join(notes), "; ".join(fixes))
    return passed("key", title, shown)


def check_endpoint(ctx: DoctorContext, found: Findings) -> Check:
    title = "Base URL"
    settings = ctx.settings
    if settings is None:
        return skipped("endpoint", title, NO_SETTINGS)
    url, source = settings.base_url, settings.base_url_source
    if settings.is_kimi_code_endpoint():
        detail = (
            f"{url} (from {source}) is the Kimi Code endpoint (api.kimi.com), which only "
            "coding agents may use"
        )
        fix = f"{source.unset_fix('base_url')} to use the Open Platform (region global/cn)"
        return failed("endpoint", title, detail, fix, ExitCode.AUTH)
    found.endpoint_ok = True
    if settings.region is not None:
        where = f"region {settings.region}, from {source}"
    else:
        where = f"from {source}; an explicit URL, so no other-region probe"
    currency = settings.currency or "unknown (set it: kimi config set currency USD or CNY)"
    detail = f"{url} ({where}); currency {currency}"
    parts = urlsplit(url)
    if parts.scheme == "http" and (parts.hostname or "") not in LOOPBACK_HOSTS:
        fix = "use an https:// URL"
        return warned("endpoint", title, f"{detail}; plain HTTP: the key travels unencrypted", fix)
    return passed("endpoint", title, detail)


def check_agent_env(ctx: DoctorContext, found: Findings) -> Check:
    title = "KIMI_* variables"
    names = sorted(n for n in ctx.env if n.startswith("KIMI_") and n not in OUR_VARS)
    agent = [n for n in names if n in AGENT_VARS or n.startswith(AGENT_PREFIXES)]
    unknown = [n for n in names if n not in agent]
    if not names:
        return passed("agent_env", title, "none set for other tools")
    notes: list[str] = []
    fixes: list[str] = []
    if agent:
        notes.append(
            "set for Moonshot's coding agents (kimi-cli, Kimi Code), not read by this kimi: "
            + ", ".join(agent)
        )
        shared = [n for n in ("KIMI_API_KEY", "KIMI_BASE_URL") if ctx.env.get(n)]
        if shared:
            verb = "is" if len(shared) == 1 else "are"
            fixes.append(
                f"{' and '.join(shared)} {verb} read by both: if set for the agent, "
                "it steers this kimi too"
            )
        else:
            fixes.append("nothing to do for this kimi; unset them if the agent is gone")
    if unknown:
        notes.append("unknown to kimi (a typo?): " + ", ".join(unknown))
        fixes.append("kimi reads: " + ", ".join(sorted(OUR_VARS)))
    return warned("agent_env", title, "; ".join(notes), "; ".join(fixes))


# -- 3. proxy and certificates --------------------------------------------------------------


def mask_proxy(url: str) -> str:
    """A proxy URL with its password hidden (also in a value that is not a URL)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError:
        return re.sub(r"(://[^/@:]*:)[^/@]*@", r"\1***@", url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    netloc = f"{user}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _bypassed(host: str, env: Mapping[str, str]) -> bool:
    raw = env.get("no_proxy") or env.get("NO_PROXY") or ""
    for entry in (e.strip().lower().lstrip(".") for e in raw.split(",")):
        if entry == "*" or (entry and (host == entry or host.endswith("." + entry))):
            return True
    return False


def _not_a_url(value: str) -> str | None:
    """Why a proxy value is not a URL at all (as httpx reads it: no scheme means http://)."""
    try:
        parts = urlsplit(value if "://" in value else f"http://{value}")
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError as exc:
        return str(exc)
    return None if parts.hostname else "no host"


def proxy_for(url: str, env: Mapping[str, str]) -> str | None:
    """The proxy httpx takes from the environment for ``url`` (lower-case names win)."""
    parts = urlsplit(url)
    if _bypassed((parts.hostname or "").lower(), env):
        return None
    scheme = parts.scheme.lower()
    for name in (f"{scheme}_proxy", f"{scheme.upper()}_PROXY", "all_proxy", "ALL_PROXY"):
        value = env.get(name, "").strip()
        if value:
            return value
    return None


def check_proxy(ctx: DoctorContext, found: Findings) -> Check:
    title = "Proxy"
    given = [(n, ctx.env[n].strip()) for n in PROXY_VARS if ctx.env.get(n, "").strip()]
    if not given:
        return passed("proxy", title, "no proxy variables: connections are direct")
    shown = ", ".join(f"{n}={mask_proxy(v)}" for n, v in given)
    if ctx.settings is not None:
        url = ctx.settings.base_url
        found.proxy = proxy = proxy_for(url, ctx.env)
        if proxy is not None:
            shown = f"{shown} ({mask_proxy(proxy)} is used for {url})"
        else:
            shown = f"{shown} (none is used for {url}: NO_PROXY or another scheme)"
    notes: list[str] = []
    fixes: list[str] = []
    for name, value in given:
        why = _not_a_url(value)
        if why is not None:
            detail = f"{shown}; {name} is not a URL ({why})"
            fix = f"fix {name} (http://HOST:PORT, or https://, socks5://, socks5h://) or unset it"
            return failed("proxy", title, detail, fix, ExitCode.CONFIG)
        scheme = urlsplit(value).scheme.lower() if "://" in value else ""
        if scheme == "socks":
            rewritten = "socks5" + value[len("socks") :]
            notes.append(f"{name} uses socks://, which means socks5:// (V2RayN and Clash write it)")
            fixes.append(f"export {name}={mask_proxy(rewritten)} (httpx takes socks5:// only)")
        elif scheme not in PROXY_SCHEMES:
            detail = f"{shown}; {name} has no usable scheme (http://, https://, socks5://)"
            fix = f"export {name}=http://{mask_proxy(value.split('://')[-1])}"
            return failed("proxy", title, detail, fix, ExitCode.CONFIG)
    lowers = {n.lower(): v for n, v in given if n.islower()}
    for name, value in given:
        if name.isupper() and lowers.get(name.lower(), value) != value:
            notes.append(f"{name} and {name.lower()} differ ({name.lower()} wins)")
            fixes.append(f"unset one of {name} and {name.lower()}")
    if any(v.lower().startswith("socks") for _, v in given) and not ctx.module_available("socksio"):
        detail = f"{shown}; a SOCKS proxy needs the socksio package, which is not installed"
        fix = "pipx inject kimi-api socksio (or pip install 'httpx[socks]')"
        return failed("proxy", title, detail, fix, ExitCode.CONFIG)
    if notes:
        return warned("proxy", title, f"{shown}; " + "; ".join(notes), "; ".join(fixes))
    return passed("proxy", title, shown)


def check_certificates(ctx: DoctorContext, found: Findings) -> Check:
    title = "Certificates"
    cafile = ctx.env.get("SSL_CERT_FILE", "").strip()
    capath = ctx.env.get("SSL_CERT_DIR", "").strip()
    if cafile:
        path = Path(cafile)
        where = f"SSL_CERT_FILE={cafile}"
        fix = "point SSL_CERT_FILE at a PEM bundle (your organisation's CA), or unset it"
        if not path.exists():
            return failed("certs", title, f"{where} does not exist", fix, ExitCode.CONFIG)
        if not path.is_file() or not os.access(path, os.R_OK):
            return failed("certs", title, f"{where} cannot be read", fix, ExitCode.CONFIG)
        try:
            context = ssl.create_default_context(cafile=str(path))
        except (ssl.SSLError, OSError, ValueError) as exc:
            detail = f"{where} is not a PEM certificate bundle ({exc})"
            return failed("certs", title, detail, fix, ExitCode.CONFIG)
        count = context.cert_store_stats().get("x509_ca", 0)
        if count == 0:
            return failed("certs", title, f"{where} holds no CA certificate", fix, ExitCode.CONFIG)
        return passed("certs", title, f"{where} ({count} CA certificates)")
    if capath:
        if not Path(capath).is_dir():
            detail = f"SSL_CERT_DIR={capath} is not a directory"
            return failed("certs", title, detail, "fix or unset SSL_CERT_DIR", ExitCode.CONFIG)
        return passed("certs", title, f"SSL_CERT_DIR={capath}")
    other = [n for n in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE") if ctx.env.get(n, "").strip()]
    if other:
        name = other[0]
        detail = f"{name} is set, but httpx (and so kimi) reads SSL_CERT_FILE only"
        return warned("certs", title, detail, f"export SSL_CERT_FILE=${name}")
    return passed("certs", title, "certifi's CA bundle (no SSL_CERT_FILE)")
