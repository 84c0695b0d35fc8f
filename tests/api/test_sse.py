from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kimi_cli.api.sse import ServerSentEvent, SSEDecoder


def decode(chunks: list[bytes]) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    events: list[ServerSentEvent] = []
    for chunk in chunks:
        events.extend(decoder.feed(chunk))
    events.extend(decoder.flush())
    return events


def test_events_comments_and_multiline_data() -> None:
    stream = (
        b": keep-alive\n\n"
        b'data: {"a": 1}\n\n'
        b"event: note\nid: 7\ndata: first\ndata: second\n\n"
        b"data:no-space\n\n"
        b"data: [DONE]\n\n"
    )
    assert decode([stream]) == [
        ServerSentEvent('{"a": 1}'),
        ServerSentEvent("first\nsecond", event="note", id="7"),
        # the last event id persists across events, as the SSE spec says
        ServerSentEvent("no-space", id="7"),
        ServerSentEvent("[DONE]", id="7"),
    ]


def test_crlf_and_lone_cr_line_endings() -> None:
    assert decode([b"data: a\r\n\r\ndata: b\r\rdata: c\n\n"]) == [
        ServerSentEvent("a"),
        ServerSentEvent("b"),
        ServerSentEvent("c"),
    ]


def test_crlf_split_between_chunks_is_one_line_end() -> None:
    assert decode([b"data: a\r", b"\n\r", b"\ndata: b\r\n\r\n"]) == [
        ServerSentEvent("a"),
        ServerSentEvent("b"),
    ]


def test_multibyte_character_split_across_chunks() -> None:
    raw = "data: 你好 🌍\n\n".encode()
    chunks = [raw[:8], raw[8:9], raw[9:13], raw[13:]]
    assert decode(chunks) == [ServerSentEvent("你好 🌍")]


def test_stream_without_final_blank_line_still_yields_last_event() -> None:
    assert decode([b"data: last"]) == [ServerSentEvent("last")]


_payload = st.text(
    alphabet=st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)), max_size=40
)


@given(
    payloads=st.lists(_payload, min_size=1, max_size=8),
    cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=12),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
)
def test_any_split_of_the_bytes_gives_the_same_events(
    payloads: list[str], cuts: list[int], newline: str
) -> None:
    text = "".join(f"data: {p}{newline}{newline}" for p in payloads)
    raw = text.encode("utf-8")
    points = sorted({c % (len(raw) + 1) for c in cuts})
    chunks = [raw[a:b] for a, b in zip([0, *points], [*points, len(raw)], strict=True)]
    # "data: " strips exactly the one space after the colon: a payload keeps its own
    expected = [ServerSentEvent(p) for p in payloads]
    assert decode(chunks) == expected
