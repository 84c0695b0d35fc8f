"""What ``--debug`` shows of a request body: the JSON as sent, made safe and short.

The key is masked wherever it appears (a prompt may quote it); embedded images and long
bodies are summarised, so a debug log of a 20 MB image stays readable.
"""

from __future__ import annotations

import json
import re
from typing import Any

#: Longer bodies are cut here, saying how long they were.
SHOWN_CHARS = 4000
_DATA_URL = re.compile(r"data:([\w/+.-]+);base64,[A-Za-z0-9+/=]{64,}")


def describe_json_body(body: Any, api_key: str = "") -> str:
    text = json.dumps(body, ensure_ascii=False)
    if api_key:
        text = text.replace(api_key, "***")
    text = _DATA_URL.sub(_summarise_data_url, text)
    if len(text) > SHOWN_CHARS:
        text = f"{text[:SHOWN_CHARS]}… ({len(text):,} characters in all)"
    return text


def _summarise_data_url(match: re.Match[str]) -> str:
    encoded = len(match.group(0)) - match.group(0).index(",") - 1
    return f"data:{match.group(1)};base64,<{encoded * 3 // 4:,} bytes>"
