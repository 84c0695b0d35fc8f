"""The two Moonshot regions, every fact about each in one row (see docs/api-notes.md)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Region:
    name: str  # what --region, KIMI_REGION and the config's ``region`` say
    base_url: str
    host: str
    console: str  # where keys are made and the account is recharged
    currency: str
    url_variable: str  # the environment variable that moves the region (proxies, tests)


REGIONS_BY_NAME: dict[str, Region] = {
    "global": Region(
        "global",
        "https://api.moonshot.ai/v1",
        "api.moonshot.ai",
        "platform.kimi.ai",
        "USD",
        "KIMI_GLOBAL_BASE_URL",
    ),
    "cn": Region(
        "cn",
        "https://api.moonshot.cn/v1",
        "api.moonshot.cn",
        "platform.kimi.com",
        "CNY",
        "KIMI_CN_BASE_URL",
    ),
}
REGIONS: tuple[str, ...] = tuple(REGIONS_BY_NAME)
DEFAULT_REGION = "global"
#: Kimi Code's endpoint: for Moonshot's coding agents only, refused by this kimi.
KIMI_CODE_HOST = "api.kimi.com"


def region_named(name: str) -> Region:
    """The region called ``name``; KeyError for an unknown name."""
    return REGIONS_BY_NAME[name]


def other_region(name: str) -> Region:
    """The region a key of ``name`` might really belong to."""
    return next(r for r in REGIONS_BY_NAME.values() if r.name != name)


def region_of_host(host: str) -> Region | None:
    return next((r for r in REGIONS_BY_NAME.values() if r.host == host), None)


def consoles_phrase() -> str:
    """``platform.kimi.ai (global) or platform.kimi.com (cn)``: where keys come from."""
    return " or ".join(f"{r.console} ({r.name})" for r in REGIONS_BY_NAME.values())
