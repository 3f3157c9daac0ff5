"""A service listens where HOST says, and only on the loopback interface by default: the
demo signs with a key published in its source, so it must not be reachable from another
machine by accident."""

import pytest

from devkit.procs import ServiceProcess, free_port


def listening_addresses(port: int) -> set[str]:
    """The local IPv4 addresses with a socket listening on `port` (from /proc/net/tcp)."""
    found = set()
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, port_hex = local.split(":")
            if state == "0A" and int(port_hex, 16) == port:  # 0A: LISTEN
                octets = [str(int(address[i:i + 2], 16)) for i in (6, 4, 2, 0)]
                found.add(".".join(octets))
    return found


@pytest.mark.parametrize("host, expected", [(None, "127.0.0.1"), ("0.0.0.0", "0.0.0.0")])
def test_listens_on_loopback_by_default_and_where_host_says(host, expected):
    env = {"AMQP_URL": "memory://", "MONGODB_URL": "mongomock://"}
    if host:
        env["HOST"] = host
    port = free_port()
    service = ServiceProcess("services.notify", env, port)
    try:
        service.wait_ready()
        assert listening_addresses(port) == {expected}
    finally:
        service.stop()
