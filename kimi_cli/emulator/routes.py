"""Which endpoint a request is for: exact paths, and paths with an ID in them."""

from __future__ import annotations

import re

EXACT = {
    ("GET", "/v1/models"): "models",
    ("POST", "/v1/chat/completions"): "chat",
    ("GET", "/v1/users/me/balance"): "balance",
    ("POST", "/v1/tokenizers/estimate-token-count"): "tokens",
    ("POST", "/v1/files"): "files.upload",
    ("GET", "/v1/files"): "files.list",
    ("POST", "/v1/batches"): "batches.create",
    ("GET", "/v1/batches"): "batches.list",
}
_ID = r"(?P<id>[^/]+)"
_FORMULA = r"(?P<id>[^/]+/[^/]+)"
PATTERNS = [
    ("GET", re.compile(rf"/v1/files/{_ID}"), "files.retrieve"),
    ("DELETE", re.compile(rf"/v1/files/{_ID}"), "files.delete"),
    ("GET", re.compile(rf"/v1/files/{_ID}/content"), "files.content"),
    ("GET", re.compile(rf"/v1/batches/{_ID}"), "batches.retrieve"),
    ("POST", re.compile(rf"/v1/batches/{_ID}/cancel"), "batches.cancel"),
    ("GET", re.compile(rf"/v1/formulas/{_FORMULA}/tools"), "formulas.tools"),
    ("POST", re.compile(rf"/v1/formulas/{_FORMULA}/fibers"), "formulas.fibers"),
]
ENDPOINTS = (
    *EXACT.values(),
    *(name for _, _, name in PATTERNS),
)
GROUPS = ("files", "batches", "formulas")


def route(method: str, path: str) -> tuple[str | None, str]:
    """The endpoint name (None when unknown) and the ID in the path ("" when none)."""
    endpoint = EXACT.get((method, path))
    if endpoint is not None:
        return endpoint, ""
    for verb, pattern, name in PATTERNS:
        match = pattern.fullmatch(path)
        if verb == method and match:
            return name, match.group("id")
    return None, ""
