"""CPU per event: `/proc/<pid>/stat` read right, and each service held against its floor."""

from __future__ import annotations

import os
import time
from typing import Any

from bench.gateway_floor import flat
from bench.ingest import heartbeat
from bench.process_cpu import cpu_seconds, parse_cpu_seconds, per_event_ms
from bench.report import cpu_lines, goals
from shared.domain.recorded import RecordedEvent

# pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
# cutime cstime ...: a command name with a space and parentheses of its own.
STAT = "4242 (python (bench) x) S 1 4242 4242 0 -1 4194560 900 0 0 0 250 50 7000 3000 20 0 3"


def test_user_and_system_time_are_read_after_the_command_name_children_left_out() -> None:
    assert parse_cpu_seconds(STAT, ticks=100) == 3.0


def test_this_process_cpu_grows_as_it_works() -> None:
    before = cpu_seconds(os.getpid())
    deadline = time.process_time() + 0.05
    while time.process_time() < deadline:
        pass
    assert cpu_seconds(os.getpid()) - before >= 0.03


def test_per_event_is_none_without_events() -> None:
    assert per_event_ms(2.0, 1000) == 2.0
    assert per_event_ms(2.0, 0) is None


def cell(batch: int, gateway: float, floor: float) -> dict[str, Any]:
    return {
        "events_per_request": batch,
        "gateway": {"cpu_ms_per_event": gateway},
        "floor": {"cpu_ms_per_event": floor},
    }


def measured() -> dict[str, Any]:
    return {
        "cpu": {
            "cells": [cell(10, 0.5, 0.2), cell(50, 0.3, 0.2), cell(500, 0.2, 0.1)],
            "retry_worker": {"events": 0, "cpu_seconds": 0.25, "cpu_ms_per_event": None},
        },
        "projection": {
            "projector": {"cpu_ms_per_event": 0.14},
            "raw_database": {"client_cpu_ms_per_event": 0.1},
        },
    }


def test_each_service_is_printed_beside_its_floor_with_the_ratio_and_goal() -> None:
    lines = cpu_lines(measured())

    assert [(ratio, ok) for _, ratio, ok, _ in lines] == [
        (2.5, False),
        (1.4999999999999998, True),
        (2.0, True),
        (1.4000000000000001, True),
    ]
    assert lines[0][3] == (
        " 10-event requests: gateway 0.500 ms/event vs floor 0.200 ms/event (2.50x, goal <= 2x)"
    )
    assert lines[3][3].split(": ")[1].strip() == (
        "projector 0.140 ms/event vs floor 0.100 ms/event (1.40x, goal <= 1.5x)"
    )


def test_the_cpu_goals_are_judged_and_always_listed_in_the_same_order() -> None:
    judged = {g["goal"]: g for g in goals(measured())}
    unmeasured = goals({})[-5:]

    assert judged["gateway CPU/event <= 2x its floor, 10-event requests"]["verdict"] == "MISS"
    assert judged["gateway CPU/event <= 2x its floor, 500-event requests"]["verdict"] == "PASS"
    assert judged["gateway CPU/event <= 2x its floor, 500-event requests"]["shown"] == (
        "gateway 0.200 ms/event vs floor 0.100 ms/event (2.00x, goal <= 2x)"
    )
    retry = judged["retry worker CPU per retried event under ingest (figure, no goal)"]
    assert retry["shown"] == "no event retried; 0.25 CPU s while idle"
    assert [g["goal"] for g in unmeasured] == list(judged)[-5:]
    assert [g["verdict"] for g in unmeasured] == ["n/a"] * 5


def test_the_gateway_floor_publishes_the_bytes_the_gateway_does() -> None:
    event = heartbeat(3, 42.5)
    stamp = {"tenantId": "demo", "userId": "bench-1", "receivedAt": "2026-12-07T08:19:24.525385Z"}

    published = flat({**event, **stamp})

    assert published == RecordedEvent.from_json(published).to_json()
