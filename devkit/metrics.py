"""Read a service's Prometheus /metrics the way Prometheus does (its own text parser)."""

from __future__ import annotations

import requests
from prometheus_client.parser import text_string_to_metric_families


def sample_total(text: str, name: str, **labels: str) -> float:
    """Sum of the samples called `name` whose labels include `labels` (0 when none).

    `name` is the sample's name as exposed (`congso_http_requests_total`, with its suffix);
    summing covers one sample per worker as well as a multiprocess scrape's single one.
    """
    return sum(sample.value
               for family in text_string_to_metric_families(text)
               for sample in family.samples
               if sample.name == name
               and all(sample.labels.get(k) == v for k, v in labels.items()))


def scrape(base: str) -> str:
    """The exposition text of the service at `base` (GET {base}/metrics, with the admin
    token, as Prometheus sends its bearer token)."""
    from devkit.apps import ADMIN

    response = requests.get(f"{base}/metrics", headers=ADMIN, timeout=5)
    response.raise_for_status()
    return response.text


def scrape_total(base: str, name: str, **labels: str) -> float:
    """`sample_total` of the service at `base` (GET {base}/metrics)."""
    return sample_total(scrape(base), name, **labels)

