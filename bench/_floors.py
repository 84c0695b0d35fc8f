"""The floors: the least a Python process can do for the same job.

Each is a complete client a person could write in a few minutes with httpx: no retries, no
error lines, no history, no config. ``kimi`` is measured against them because a Python
command line cannot start faster than Python, nor talk HTTP faster than httpx does.
The streaming client writes and flushes every delta as it arrives, as ``kimi`` does in a pipe.
"""

from __future__ import annotations

from pathlib import Path

POST = '''\
"""Minimal non-streaming chat client: one POST, print the answer."""
import sys

import httpx

base_url, key, model, prompt = sys.argv[1:5]
with httpx.Client(timeout=60) as client:
    response = client.post(
        base_url + "/chat/completions",
        headers={"Authorization": f"Bearer {key}"},
        json={"model": model, "messages": [{"role": "user", "content": prompt}]},
    )
    response.raise_for_status()
    text = response.json()["choices"][0]["message"]["content"]
sys.stdout.write(text if text.endswith("\\n") else text + "\\n")
'''

STREAM = '''\
"""Minimal streaming chat client: read SSE lines, write each delta to stdout as it comes."""
import json
import sys

import httpx

base_url, key, model, prompt, budget = sys.argv[1:6]
body = {
    "model": model,
    "messages": [{"role": "user", "content": prompt}],
    "max_completion_tokens": int(budget),
    "stream": True,
}
write, flush = sys.stdout.write, sys.stdout.flush
last = ""
with httpx.Client(timeout=60) as client:
    with client.stream(
        "POST",
        base_url + "/chat/completions",
        headers={"Authorization": f"Bearer {key}"},
        json=body,
    ) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                break
            choices = json.loads(data)["choices"]
            if choices:
                text = choices[0]["delta"].get("content")
                if text:
                    write(text)
                    flush()
                    last = text[-1]
if last != "\\n":
    write("\\n")
'''


def write_floors(directory: Path) -> tuple[Path, Path]:
    """Write both clients into ``directory``; return (post, stream) paths."""
    post, stream = directory / "floor_post.py", directory / "floor_stream.py"
    post.write_text(POST, encoding="utf-8")
    stream.write_text(STREAM, encoding="utf-8")
    return post, stream
