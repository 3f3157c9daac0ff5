#!/usr/bin/env bash
# Make sure RabbitMQ accepts AMQP on 127.0.0.1:5672: start it if installed and stopped,
# install it from Debian's packages if missing, then wait until it accepts a connection.
set -euo pipefail
py=${1:-python3}

amqp_ok() {
  "$py" - <<'PY' 2>/dev/null
import sys
import pika
try:
    params = pika.URLParameters("amqp://guest:guest@127.0.0.1:5672/%2F?socket_timeout=3")
    pika.BlockingConnection(params).close()
except Exception:
    sys.exit(1)
PY
}

if amqp_ok; then
  exit 0
fi

if ! command -v rabbitmq-server >/dev/null 2>&1; then
  echo "RabbitMQ is not installed: installing rabbitmq-server" >&2
  apt-get update -qq
  # The package may try to start the server through init scripts, which containers lack.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server || true
  command -v rabbitmq-server >/dev/null 2>&1 || { echo "rabbitmq-server install failed" >&2; exit 1; }
fi

if ! amqp_ok; then
  echo "starting RabbitMQ (rabbitmq-server -detached)" >&2
  rabbitmq-server -detached || true
fi

for _ in $(seq 1 120); do
  if amqp_ok; then
    echo "RabbitMQ is up on 127.0.0.1:5672" >&2
    exit 0
  fi
  sleep 1
done
echo "RabbitMQ did not come up on 127.0.0.1:5672 within 120 s" >&2
exit 1
