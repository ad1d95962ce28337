"""The flusher's retry policy against scripted answers (httpx MockTransport, real outbox file)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from progress_sync_client import AsyncProgressClient, Backoff, DroppedEvent, EventState, SyncStatus

Handler = (
    Callable[[httpx.Request], httpx.Response] | Callable[[httpx.Request], Awaitable[httpx.Response]]
)


class RecordingBackoff(Backoff):
    """The real policy with waits shrunk 1000x, remembering what it was asked."""

    def __init__(self) -> None:
        super().__init__(jitter=0.0)
        self.asked: list[float | None] = []

    def next_delay(self, retry_after: float | None = None) -> float:
        self.asked.append(retry_after)
        return super().next_delay(retry_after) / 1000


def accepted(request: httpx.Request, reject: set[str] | None = None) -> httpx.Response:
    events = json.loads(request.content)["events"]
    results = [
        {"eventId": e["eventId"], "status": "rejected", "error": "quota", "code": "quota"}
        if e["eventId"] in (reject or set())
        else {"eventId": e["eventId"], "status": "accepted"}
        for e in events
    ]
    rejected = sum(r["status"] == "rejected" for r in results)
    body = {"accepted": len(results) - rejected, "rejected": rejected, "results": results}
    return httpx.Response(202, json={**body, "consistencyToken": f"t{len(events)}"})


def client_for(tmp_path: Path, handler: Handler, **options: object) -> AsyncProgressClient:
    defaults: dict[str, object] = {"api_key": "k", "linger": 0.0}
    return AsyncProgressClient(
        "http://gateway.test",
        outbox=tmp_path / "outbox.sqlite3",
        transport=httpx.MockTransport(handler),
        **{**defaults, **options},  # type: ignore[arg-type]
    )


async def test_503_waits_retry_after_and_5xx_and_timeouts_back_off_then_all_arrive(
    tmp_path: Path,
) -> None:
    script = iter(["503", "500", "timeout", "ok"])
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        step = next(script, "ok")
        seen.append(step)
        if step == "503":
            return httpx.Response(503, headers={"Retry-After": "5"})
        if step == "500":
            return httpx.Response(500)
        if step == "timeout":
            raise httpx.ReadTimeout("slow", request=request)
        return accepted(request)

    backoff = RecordingBackoff()
    async with client_for(tmp_path, handler, backoff=backoff) as client:
        await client.track("u1", client.events.content_rated("a", "easy"))
        report = await client.flush(timeout=5)
    assert report.drained
    assert report.queued == 0
    assert seen == ["503", "500", "timeout", "ok"]
    assert backoff.asked == [5.0, None, None]
    assert client.consistency_token("u1") == "t1"


async def test_backoff_schedule_is_1_5_15_60_then_every_60_seconds() -> None:
    backoff = Backoff(jitter=0.0)
    assert [backoff.next_delay() for _ in range(6)] == [1, 5, 15, 60, 60, 60]
    backoff.reset()
    assert backoff.next_delay() == 1
    jittered = Backoff(jitter=0.2)
    assert all(0.8 <= jittered.next_delay() <= 1.2 for _ in range(1))
    assert jittered.failures == 1


async def test_a_rejected_event_is_reported_and_removed_the_rest_accepted(tmp_path: Path) -> None:
    dropped: list[DroppedEvent] = []
    async with client_for(
        tmp_path, lambda r: accepted(r, reject={"bad"}), on_dropped=dropped.append
    ) as client:
        good = client.events.content_rated("a", "easy")
        bad = client.events.content_rated("b", "hard", event_id="bad")
        await client.track("u1", good, bad)
        report = await client.flush(timeout=5)
    assert report.queued == 0
    assert [(d.event_id, d.reason, d.code) for d in dropped] == [("bad", "rejected", "quota")]


async def test_413_halves_the_batch_until_it_fits(tmp_path: Path) -> None:
    sizes: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        count = len(json.loads(request.content)["events"])
        sizes.append(count)
        return httpx.Response(413) if count > 3 else accepted(request)

    async with client_for(tmp_path, handler) as client:
        await client.track("u1", *[client.events.content_rated(f"i{i}", "ok") for i in range(10)])
        report = await client.flush(timeout=5)
    assert report.queued == 0
    assert sizes[:3] == [10, 5, 2]
    assert sum(size for size in sizes if size <= 3) == 10


async def test_401_asks_the_token_provider_once_more_then_sends(tmp_path: Path) -> None:
    issued: list[str] = []

    def provider() -> str:
        issued.append(f"token-{len(issued)}")
        return issued[-1]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers["Authorization"] == "Bearer token-0":
            return httpx.Response(401)
        return accepted(request)

    async with client_for(tmp_path, handler, api_key=None, token_provider=provider) as client:
        await client.track("u1", client.events.onboarding_reset())
        report = await client.flush(timeout=5)
    assert report.queued == 0
    assert issued == ["token-0", "token-1"]


async def test_410_drops_and_reports_that_users_events_only(tmp_path: Path) -> None:
    dropped: list[DroppedEvent] = []

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(410) if "/erased/" in request.url.path else accepted(request)

    async with client_for(tmp_path, handler, on_dropped=dropped.append) as client:
        await client.track("erased", *[client.events.onboarding_reset() for _ in range(3)])
        await client.track("kept", client.events.onboarding_reset())
        report = await client.flush(timeout=5)
    assert report.queued == 0
    assert [(d.user_id, d.reason) for d in dropped] == [("erased", "erased")] * 3


async def test_403_stops_in_an_error_state_and_keeps_the_events(tmp_path: Path) -> None:
    answer = {"status": 403}

    def handler(request: httpx.Request) -> httpx.Response:
        if answer["status"] == 403:
            return httpx.Response(403, json={"error": {"code": "forbidden", "message": "no"}})
        return accepted(request)

    async with client_for(tmp_path, handler) as client:
        await client.track("u1", client.events.onboarding_reset())
        report = await client.flush(timeout=5)
        assert report.queued == 1
        assert report.status.state == "error"
        assert "403" in (report.status.error or "")
        answer["status"] = 202
        client.resume()
        assert (await client.flush(timeout=5)).queued == 0


async def test_close_is_bounded_and_says_how_many_stay_queued(tmp_path: Path) -> None:
    client = client_for(tmp_path, lambda r: httpx.Response(503, headers={"Retry-After": "30"}))
    await client.start()
    await client.track("u1", *[client.events.onboarding_reset() for _ in range(4)])
    report = await client.close(timeout=0.5)
    assert not report.drained
    assert report.queued == 4
    resumed = client_for(tmp_path, accepted)
    async with resumed:
        assert (await resumed.flush(timeout=5)).queued == 0


def test_the_sync_client_tracks_flushes_and_closes(tmp_path: Path) -> None:
    from progress_sync_client import ProgressClient

    sent: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(len(json.loads(request.content)["events"]))
        return accepted(request)

    with ProgressClient(
        "http://gateway.test",
        api_key="k",
        outbox=tmp_path / "sync.sqlite3",
        transport=httpx.MockTransport(handler),
    ) as client:
        client.track("u1", *[client.events.onboarding_reset() for _ in range(3)])
        assert client.flush(timeout=5).queued == 0
    assert sum(sent) == 3


def test_track_without_an_outbox_says_so() -> None:
    from progress_sync_client import NoOutbox

    client = AsyncProgressClient("http://gateway.test", api_key="k")
    with pytest.raises(NoOutbox, match="outbox=PATH"):
        client.queue("u1", [client.events.onboarding_reset()])


def test_the_sync_client_refuses_two_credentials_and_leaves_no_thread(tmp_path: Path) -> None:
    import threading

    from progress_sync_client import ProgressClient

    with pytest.raises(ValueError, match="exactly one"):
        ProgressClient("http://gateway.test", api_key="k", token_provider=lambda: "t")
    assert not [t for t in threading.enumerate() if t.name == "progress-sync"]


async def test_a_retry_is_pending_with_a_wait_and_counts_the_failures_in_a_row(
    tmp_path: Path,
) -> None:
    script = iter([500, 503, 202])
    statuses: list[SyncStatus] = []

    def handler(request: httpx.Request) -> httpx.Response:
        status = next(script, 202)
        return accepted(request) if status == 202 else httpx.Response(status)

    options = {"backoff": RecordingBackoff(), "on_status": statuses.append}
    async with client_for(tmp_path, handler, **options) as client:
        await client.track("u1", client.events.onboarding_reset())
        assert (await client.flush(timeout=5)).queued == 0
    waits = [(s.retry_count, s.retry_in_ms > 0) for s in statuses if s.state == "pending"]
    assert (1, True) in waits
    assert (2, True) in waits
    assert client.status.retry_count == 0
    assert client.status.state in ("idle", "sending")


async def test_discard_pending_drops_one_users_queue_unsent_and_returns_it(
    tmp_path: Path,
) -> None:
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.extend(e["eventId"] for e in json.loads(request.content)["events"])
        return accepted(request)

    dropped: list[DroppedEvent] = []
    client = client_for(tmp_path, handler, on_dropped=dropped.append)
    shared = [client.events.content_rated(f"i{i}", "easy") for i in range(3)]
    client.queue("shared-computer", shared)
    client.queue("other", [kept := client.events.onboarding_reset()])
    discarded = client.discard_pending("shared-computer")
    assert [e.event_id for e in discarded] == [e.event_id for e in shared]
    assert discarded == shared
    assert client.discard_pending("shared-computer") == []
    async with client:
        assert (await client.flush(timeout=5)).queued == 0
    assert sent == [kept.event_id]
    assert dropped == []


async def test_each_event_says_whether_it_is_pending_synced_or_rejected_and_why(
    tmp_path: Path,
) -> None:
    arrived, gate = asyncio.Event(), asyncio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        arrived.set()
        await gate.wait()
        return accepted(request, reject={"bad"})

    async with client_for(tmp_path, handler) as client:
        good = client.events.content_rated("a", "easy")
        bad = client.events.content_rated("b", "hard", event_id="bad")
        assert client.event_state("u1", good.event_id) is None
        await client.track("u1", good, bad)
        assert client.event_state("u1", good.event_id) in (
            EventState("pending"),
            EventState("sending"),
        )
        await arrived.wait()
        assert client.event_state("u1", good.event_id) == EventState("sending")
        gate.set()
        assert (await client.flush(timeout=5)).queued == 0
        assert client.event_state("u1", good.event_id) == EventState("synced")
        assert client.event_state("u1", "bad") == EventState(
            "rejected", "rejected", "quota", "quota", None
        )
