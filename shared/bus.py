"""Choose the bus from `AMQP_URL`: RabbitMQ, or the in-process bus for `memory://`."""

from __future__ import annotations

from shared import topology
from shared.broker import RabbitPublisher, declare_topology
from shared.consumer import RabbitConsumer
from shared.memory_bus import MemoryBus
from shared.messages import Handler


class RabbitBus:
    """Factory of publishers and consumers on one RabbitMQ URL."""

    def __init__(self, url: str, *, name: str = "congso"):
        self.url = url
        self.name = name

    def publisher(self) -> RabbitPublisher:
        return RabbitPublisher(self.url, name=f"{self.name}-publisher")

    def consumer(self, spec: topology.QueueSpec, handler: Handler, **options) -> RabbitConsumer:
        options.setdefault("name", f"{self.name}-consumer")
        return RabbitConsumer(self.url, spec, handler, **options)

    def declare(self) -> None:
        declare_topology(self.url, f"{self.name}-topology")


def open_bus(url: str, *, name: str = "congso") -> RabbitBus | MemoryBus:
    """Return the bus for `url`; nothing connects until a publisher or consumer starts."""
    if url.startswith("memory://"):
        return MemoryBus()
    return RabbitBus(url, name=name)
