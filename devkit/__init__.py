"""Development-only helpers shared by the test suite and the benchmarks (never installed:
pyproject's package list is shared* and services*): services as in-process apps or OS
processes, RabbitMQ vhosts and queue depths, SMTP and webhook receivers, a TCP proxy
that can cut a connection."""
