"""Prometheus metrics shared by every service.

Defined once at import (no I/O); under gunicorn with several workers set
PROMETHEUS_MULTIPROC_DIR so every worker's samples are aggregated by `/metrics`.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client import REGISTRY as DEFAULT_REGISTRY

# `*_created` samples (one per label set, the time it first appeared) double what a scrape
# carries and no alert here uses them; multiprocess mode does not write them at all.
disable_created_metrics()

HTTP_REQUESTS = Counter(
    "congso_http_requests_total", "HTTP requests answered",
    ["service", "method", "endpoint", "status"],
)
HTTP_LATENCY = Histogram(
    "congso_http_request_duration_seconds", "Time to answer an HTTP request",
    ["service", "method", "endpoint"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
EVENTS_PUBLISHED = Counter(
    "congso_events_published_total", "Events confirmed by the broker", ["type"],
)
EVENTS_PUBLISH_FAILED = Counter(
    "congso_events_publish_failed_total", "Events the broker did not confirm", ["reason"],
)
EVENTS_CONSUMED = Counter(
    "congso_events_consumed_total", "Deliveries settled by a consumer", ["queue", "outcome"],
)
# livesum: with several workers, the sum over the live ones (one runs the consumer)
CONSUMER_INFLIGHT = Gauge(
    "congso_consumer_inflight", "Deliveries taken from the queue and not yet settled",
    ["queue"], multiprocess_mode="livesum",
)
CONSUMER_CONNECTED = Gauge(
    "congso_consumer_connected", "Consumers connected to the broker and consuming",
    ["queue"], multiprocess_mode="livesum",
)
OUTBOX_BACKLOG = Gauge(
    "congso_outbox_backlog", "Events stored but not yet confirmed by the broker",
    ["collection"], multiprocess_mode="max",
)
NOTIFICATIONS = Counter(
    "congso_notifications_total", "Notification sends by final status",
    ["kind", "channel", "status"],
)


# Events that are one person's action (a review, a sign-in link, a token, an audited act):
# counted under one label, so a counter moving by one never dates that person's action.
PERSONAL_EVENTS = frozenset({
    "peer_review.submitted", "auth.link_requested", "auth.token_issued", "auth.revoked",
    "account.notice", "audit.recorded", "review.response",
})


# Outbox collections whose documents are one person's action: their backlog is summed
# under one label (a backlog of one while the broker is away would date that action).
PERSONAL_COLLECTIONS = frozenset({
    "peer_reviews", "official_tokens", "signin_links", "revocations", "audit", "audit_outbox",
    "review_notices", "review_drafts",
})


def event_label(event_type: str) -> str:
    return "personal" if event_type in PERSONAL_EVENTS else event_type


def collection_label(collection: str) -> str:
    return "personal" if collection in PERSONAL_COLLECTIONS else collection


def process_total(name: str, **labels: str) -> float | None:
    """The value of gauge `name` summed over every worker (multiprocess mode only)."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return None
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    total = 0.0
    for metric in registry.collect():
        if metric.name == name:
            total += sum(s.value for s in metric.samples
                         if all(s.labels.get(k) == v for k, v in labels.items()))
    return total


def render() -> tuple[bytes, str]:
    """Return the exposition text of this process, or of all workers in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(DEFAULT_REGISTRY), CONTENT_TYPE_LATEST
