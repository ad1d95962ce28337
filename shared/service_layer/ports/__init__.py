"""What the use cases need from the outside world, as Protocols.

Each port has one real adapter in `shared.adapters` and one in-memory fake in `tests.fakes`;
the same contract tests run against both. Every method may raise `StoreUnavailable` (or, for
the broker, `BrokerUnavailable`) on an outage and `StoreRejected` when the store refuses.
"""

from __future__ import annotations

from shared.service_layer.ports.catalog_ports import CatalogJobStore, CourseChangeStep
from shared.service_layer.ports.change_ports import ChangeAnnouncer
from shared.service_layer.ports.insight_ports import (
    CourseFunnel,
    InsightStore,
    InsightTotals,
    LearnerContributions,
)
from shared.service_layer.ports.log_ports import (
    Clock,
    EventLog,
    SnapshotCheckpoints,
    SnapshotStore,
)
from shared.service_layer.ports.message_ports import (
    DeadLetterStore,
    EventPublisher,
    MessageRepublisher,
    ParkedMessages,
    RetryRoutes,
    TopicBacklog,
)
from shared.service_layer.ports.metrics_ports import Metrics
from shared.service_layer.ports.tenant_ports import TenantStore
from shared.service_layer.ports.user_ports import (
    CatalogStore,
    CertificateStore,
    ImportCheckpoints,
    MergePointers,
    RebuildCheckpoints,
    TombstoneLedger,
    TombstoneStore,
    UserDataStore,
    WrittenEvents,
)

__all__ = [
    "CatalogJobStore",
    "CatalogStore",
    "CertificateStore",
    "ChangeAnnouncer",
    "Clock",
    "CourseChangeStep",
    "CourseFunnel",
    "DeadLetterStore",
    "EventLog",
    "EventPublisher",
    "ImportCheckpoints",
    "InsightStore",
    "InsightTotals",
    "LearnerContributions",
    "MergePointers",
    "MessageRepublisher",
    "Metrics",
    "ParkedMessages",
    "RebuildCheckpoints",
    "RetryRoutes",
    "SnapshotCheckpoints",
    "SnapshotStore",
    "TenantStore",
    "TombstoneLedger",
    "TombstoneStore",
    "TopicBacklog",
    "UserDataStore",
    "WrittenEvents",
]
