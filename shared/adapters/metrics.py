"""Every Prometheus metric Progress Sync exports; docs/metrics.md describes each one.

Label values are bounded sets (outcomes, event types, tiers, routes): never a user,
tenant or event id.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

__all__ = [
    "CHANGES_ANNOUNCED",
    "CONSUMER_REBALANCES",
    "CONSUMER_REVOKED_RECORDS",
    "CONSUMER_STALLS",
    "DLQ_EVENTS",
    "DLQ_SIZE",
    "FAILED_AUTHENTICATIONS",
    "GATEWAY_EVENTS",
    "GATEWAY_REQUEST_SECONDS",
    "GATEWAY_STREAMS_CLOSED",
    "GATEWAY_STREAMS_OPEN",
    "GATEWAY_STREAM_CHANGES",
    "GATEWAY_STREAM_MESSAGES",
    "GATEWAY_STREAM_READ_FAILURES",
    "GATEWAY_WAITS",
    "INSIGHTS_BATCH_SECONDS",
    "INSIGHTS_CHANGES",
    "INSIGHTS_COURSE_LEARNERS",
    "INSIGHTS_COURSE_REFRESHES",
    "INSIGHTS_LAG_SECONDS",
    "INSIGHTS_LEARNERS_CHANGED",
    "JWKS_FETCHES",
    "LOG_HOLES_FILLED",
    "PROJECTOR_BATCH_SECONDS",
    "PROJECTOR_EVENTS",
    "PROJECTOR_LAG_SECONDS",
    "PROJECTOR_OUTAGES",
    "PROJECTOR_REPLAYS",
    "PROJECTOR_REPLAY_SECONDS",
    "RETRY_DELAY_SECONDS",
    "RETRY_EVENTS",
    "SNAPSHOTS_UNREADABLE",
    "USER_TOKEN_REFUSALS",
    "XAPI_QUOTA_REFUSALS",
    "XAPI_REQUESTS",
    "XAPI_SIGNATURES",
]

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_LAG_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)

GATEWAY_EVENTS = Counter(
    "progress_gateway_events",
    "Events the gateway answered for, by outcome (accepted, rejected, unavailable) and type.",
    ["outcome", "type"],
)
GATEWAY_REQUEST_SECONDS = Histogram(
    "progress_gateway_request_seconds",
    "Time from request received to response sent, by method, route template and status.",
    ["method", "route", "status"],
    buckets=_LATENCY_BUCKETS,
)
GATEWAY_WAITS = Counter(
    "progress_gateway_waits",
    "Reads with waitFor, by how the wait ended (reflected, timed_out, lost, expired, refused).",
    ["outcome"],
)

GATEWAY_STREAMS_OPEN = Gauge(
    "progress_gateway_streams_open", "Live streams (GET …/progress/stream) open in this process."
)
GATEWAY_STREAM_MESSAGES = Counter(
    "progress_gateway_stream_messages",
    "Messages written to live streams, by kind (events, keep_alive, closed).",
    ["kind"],
)
GATEWAY_STREAMS_CLOSED = Counter(
    "progress_gateway_streams_closed",
    "Live streams ended, by reason (the closed reasons, slow_reader, disconnected, refused).",
    ["reason"],
)
GATEWAY_STREAM_READ_FAILURES = Counter(
    "progress_gateway_stream_read_failures",
    "Live-stream reads of the log that failed on the database (the stream reads again later).",
)
GATEWAY_STREAM_CHANGES = Counter(
    "progress_gateway_stream_changes",
    "Change announcements the gateway's follower of progress.changes read, by outcome.",
    ["outcome"],
)

USER_TOKEN_REFUSALS = Counter(
    "progress_user_token_refusals",
    "User tokens the gateway refused, by the code of its 401 (docs/identity.md lists them).",
    ["reason"],
)
JWKS_FETCHES = Counter(
    "progress_jwks_fetches",
    "Fetches of a trusted issuer's key set, by outcome (ok, failed); a failure keeps the last "
    "good set.",
    ["outcome"],
)

FAILED_AUTHENTICATIONS = Counter(
    "progress_gateway_failed_authentications",
    "Authentications refused, by outcome (unauthorized, refused by the per-address limit).",
    ["outcome"],
)

XAPI_REQUESTS = Counter(
    "progress_xapi_requests",
    "xAPI requests answered, by resource (docs/metrics.md lists them), method and status class.",
    ["resource", "method", "status"],
)

XAPI_QUOTA_REFUSALS = Counter(
    "progress_xapi_quota_refusals",
    "xAPI writes refused (413) for a per-learner quota, by quota.",
    ["quota"],
)

XAPI_SIGNATURES = Counter(
    "progress_xapi_signatures",
    "Signed xAPI statements answered 200/204, by signature status (verified, unverified).",
    ["status"],
)

PROJECTOR_EVENTS = Counter(
    "progress_projector_events",
    "Events the projector handled, by outcome (applied, duplicate, conflict, failed).",
    ["outcome"],
)
PROJECTOR_BATCH_SECONDS = Histogram(
    "progress_projector_batch_seconds",
    "Time to project one consumed batch into the log and the snapshots.",
    buckets=_LATENCY_BUCKETS,
)
PROJECTOR_LAG_SECONDS = Histogram(
    "progress_projector_lag_seconds",
    "Time from an event's receivedAt at the gateway to its snapshot being written.",
    buckets=_LAG_BUCKETS,
)
PROJECTOR_REPLAYS = Counter(
    "progress_projector_replays",
    "Snapshots rebuilt from the user's whole log because an event arrived late.",
)
PROJECTOR_REPLAY_SECONDS = Histogram(
    "progress_projector_replay_seconds",
    "Time to rebuild one snapshot from the user's log.",
    buckets=_LATENCY_BUCKETS,
)
PROJECTOR_OUTAGES = Counter(
    "progress_projector_outages",
    "Batches put back because MongoDB was unreachable (the consumer paused and backed off).",
)

LOG_HOLES_FILLED = Counter(
    "progress_log_holes_filled",
    "Empty log positions filled with a filler, by who filled them: `writer` (a position it "
    "left unused) or `finder` (a hole older than PROGRESS_LOG_HOLE_SECONDS found by a read).",
    ["by"],
)
CONSUMER_REBALANCES = Counter(
    "progress_consumer_rebalance_partitions",
    "Partitions a consumer was assigned or had revoked by its group, by service and change.",
    ["service", "change"],
)
CONSUMER_REVOKED_RECORDS = Counter(
    "progress_consumer_revoked_records",
    "Records of revoked partitions a consumer dropped: not written (before) or written but "
    "not committed (during), by service; the partition's new owner handles them.",
    ["service", "when"],
)
CONSUMER_STALLS = Counter(
    "progress_consumer_stalls",
    "Liveness probes answered 503 because a batch was held past the stall bound, by service.",
    ["service"],
)

SNAPSHOTS_UNREADABLE = Counter(
    "progress_snapshots_unreadable",
    "Stored snapshots that could not be read back, by where (projection, read, sweep); the "
    "projection recomputes them from the log, `progressctl rebuild` repairs them for reads.",
    ["where"],
)

RETRY_EVENTS = Counter(
    "progress_retry_events",
    "Events entering or leaving a retry tier, by tier and outcome (scheduled, applied, failed).",
    ["tier", "outcome"],
)
RETRY_DELAY_SECONDS = Histogram(
    "progress_retry_delay_seconds",
    "Time from an event's first failure to its success on a retry or its dead letter, by "
    "outcome (applied, dead_lettered).",
    ["outcome"],
    buckets=(1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 90.0, 120.0, 300.0, 900.0, 3600.0),
)
DLQ_EVENTS = Counter(
    "progress_dlq_events",
    "Events moved to the dead-letter topic and collection, by reason.",
    ["reason"],
)
DLQ_SIZE = Gauge(
    "progress_dlq_size",
    "Dead letters stored and not yet replayed (the dead_letters collection).",
)
CHANGES_ANNOUNCED = Counter(
    "progress_changes_announced",
    "Snapshot change announcements sent to progress.changes, by writer (projector, "
    "retry_worker, rebuild, erase) and outcome (acknowledged, failed).",
    ["writer", "outcome"],
)
INSIGHTS_CHANGES = Counter(
    "progress_insights_changes",
    "Change announcements the insights consumer took from progress.changes, by outcome "
    "(handled, undecodable, rewound: its batch failed and is delivered again).",
    ["outcome"],
)
INSIGHTS_LEARNERS_CHANGED = Counter(
    "progress_insights_learners_changed",
    "Learners whose contribution to the course insights changed (a repeated change adds none).",
)
INSIGHTS_BATCH_SECONDS = Histogram(
    "progress_insights_batch_seconds",
    "Time the insights consumer took to recount one batch of announced learners.",
)
INSIGHTS_LAG_SECONDS = Histogram(
    "progress_insights_lag_seconds",
    "Time from a change's announcement (its record's timestamp) to the insights showing it.",
    buckets=_LAG_BUCKETS,
)
INSIGHTS_COURSE_LEARNERS = Gauge(
    "progress_insights_course_learners",
    "Learners of a course who started, completed or are certified, for the "
    "PROGRESS_INSIGHTS_METRIC_COURSES most started courses only (bounded cardinality).",
    ["tenant", "course", "state"],
)
INSIGHTS_COURSE_REFRESHES = Counter(
    "progress_insights_course_refreshes",
    "Refreshes of the course gauges from the stored sums, by outcome (ok, failed: the "
    "database did not answer and the gauges keep their last values).",
    ["outcome"],
)

CATALOG_JOBS = Counter(
    "progress_catalog_jobs",
    "Catalog job runs by outcome: started (a worker took a job, or resumed one), finished, "
    "superseded (a newer change of the course stopped it), failed (a run raised; the job "
    "resumes from its checkpoint, or is marked failed after five runs), take_failed (looking "
    "for a job failed, e.g. MongoDB away).",
    ["outcome"],
)
CATALOG_JOB_USERS = Counter(
    "progress_catalog_job_users",
    "Users whose snapshots catalog job runs judged, counted as a run ends (finished or "
    "superseded).",
)
