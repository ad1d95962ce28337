"""The verb, activity-type and extension IRIs the progress mapping understands.

ADL's verbs (both the `http://adlnet.gov/expapi/verbs/` IRIs and their
`https://w3id.org/xapi/adl/verbs/` aliases), the cmi5 profile's and the video profile's.
"""

from __future__ import annotations

from typing import Literal

__all__ = [
    "COURSE_TYPES",
    "PLAYED_SEGMENTS",
    "PROGRESS_EXTENSIONS",
    "VERB_MEANINGS",
    "VIDEO_LENGTH",
    "VIDEO_TIME",
    "VIDEO_TIME_TO",
    "Meaning",
]

Meaning = Literal[
    "completed",
    "passed",
    "failed",
    "attempted",
    "progressed",
    "experienced",
    "scored",
    "terminated",
    "session",
    "media",
]
"""What a verb says about progress; `session` verbs (launched, initialized) say nothing."""

_ADL = "http://adlnet.gov/expapi/verbs/"
_ADL_W3ID = "https://w3id.org/xapi/adl/verbs/"
_VIDEO = "https://w3id.org/xapi/video/verbs/"

_BY_NAME: dict[str, Meaning] = {
    "completed": "completed",
    "passed": "passed",
    "mastered": "passed",
    "failed": "failed",
    "attempted": "attempted",
    "progressed": "progressed",
    "experienced": "experienced",
    "scored": "scored",
    "terminated": "terminated",
    "exited": "terminated",
    "abandoned": "terminated",
    "satisfied": "completed",
    "waived": "completed",
    "launched": "session",
    "initialized": "session",
}

VERB_MEANINGS: dict[str, Meaning] = {
    **{_ADL + name: meaning for name, meaning in _BY_NAME.items()},
    **{_ADL_W3ID + name: meaning for name, meaning in _BY_NAME.items()},
    _VIDEO + "played": "media",
    _VIDEO + "paused": "media",
    _VIDEO + "seeked": "media",
}
"""Each understood verb IRI and its meaning; any other verb carries no progress."""

COURSE_TYPES = frozenset(
    {
        "http://adlnet.gov/expapi/activities/course",
        "https://w3id.org/xapi/cmi5/activitytype/course",
    }
)
"""Activity types that make an Activity a course (completion gives `course.completed`)."""

PROGRESS_EXTENSIONS = (
    "https://w3id.org/xapi/cmi5/result/extensions/progress",
    "https://w3id.org/xapi/video/extensions/progress",
)
"""Result extensions holding a progress measure (cmi5: 0-100; video: 0-1)."""

VIDEO_TIME = "https://w3id.org/xapi/video/extensions/time"
"""Result extension: the playhead position in seconds."""
VIDEO_TIME_TO = "https://w3id.org/xapi/video/extensions/time-to"
"""Result extension of `seeked`: the position sought to."""
VIDEO_LENGTH = "https://w3id.org/xapi/video/extensions/length"
"""Context extension: the media's length in seconds."""
PLAYED_SEGMENTS = "https://w3id.org/xapi/video/extensions/played-segments"
"""Result extension: the session's played segments, `0[.]5.4[,]5.4[.]10`."""
