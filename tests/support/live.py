"""Reading a gateway's live streams (`GET …/progress/stream`) in tests."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class Message:
    """One Server-Sent Events message; a comment line is `event="comment"`."""

    event: str
    data: str = ""
    id: str | None = None

    def json(self) -> Any:
        return json.loads(self.data)


def messages_of(lines: Iterator[str]) -> Iterator[Message]:
    """The messages of an event stream's lines (as the SSE spec reads them)."""
    event, last_id, data = "message", None, []
    for line in lines:
        if not line:
            if data:
                yield Message(event, "\n".join(data), last_id)
            event, data = "message", []
        elif line.startswith(":"):
            yield Message("comment", line[1:].strip())
        else:
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "event":
                event = value
            elif name == "data":
                data.append(value)
            elif name == "id":
                last_id = value


@contextmanager
def opened_stream(
    url: str, user_id: str, credential: str, **query: str
) -> Iterator[tuple[httpx.Response, Iterator[Message]]]:
    """Open a user's stream on the gateway at `url`; its answer and its messages.

    `last_event_id` in `query` becomes the `Last-Event-ID` header.
    """
    headers = {"Authorization": f"Bearer {credential}"}
    if "last_event_id" in query:
        headers["Last-Event-ID"] = query.pop("last_event_id")
    timeout = httpx.Timeout(10.0, read=10.0)
    with httpx.stream(
        "GET",
        f"{url}/v1/users/{user_id}/progress/stream",
        params=query,
        headers=headers,
        timeout=timeout,
    ) as response:
        yield response, messages_of(response.iter_lines())


def events_until(
    messages: Iterator[Message], count: int, timeout: float = 10.0
) -> tuple[list[dict[str, Any]], str]:
    """Collect `events` messages until `count` events came; the events and the last id.

    Fails on a `closed` message, on more events than `count`, or after `timeout`.
    """
    deadline = time.monotonic() + timeout
    events: list[dict[str, Any]] = []
    last_id = ""
    for message in messages:
        assert message.event != "closed", f"the stream closed: {message.data}"
        if message.event == "events":
            body = message.json()
            assert message.id == body["cursor"]
            events += body["events"]
            last_id = body["cursor"]
        if len(events) >= count:
            assert len(events) == count, f"{len(events)} events, {count} expected"
            return events, last_id
        assert time.monotonic() < deadline, f"{len(events)} of {count} events in {timeout}s"
    raise AssertionError(f"the stream ended after {len(events)} of {count} events")


def next_message(messages: Iterator[Message], *kinds: str) -> Message:
    """The next message of one of `kinds` (others are skipped)."""
    for message in messages:
        if message.event in kinds:
            return message
    raise AssertionError(f"the stream ended before a message of {kinds}")
