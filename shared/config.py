"""Settings from the environment, validated once at start.

A bad value stops the process with a `ConfigError` naming the variable, instead of failing
later at the first request that happens to need it.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_PORTS = {"survey": 8001, "scoring": 8002, "notify": 8003, "all": 8000}
SERVICES = ("survey", "scoring", "notify")


class ConfigError(ValueError):
    """A configuration variable has a value the services cannot run with."""

    def __init__(self, variable: str, message: str):
        super().__init__(f"{variable}: {message}")
        self.variable = variable


# events scoring applies together at most (SCORING_BATCH; its prefetch is twice this)
SCORING_BATCH = 500
# events a replay packs in one message, by default and at most: a pack's transport costs
# about what one event's did, spread over its events; a consumer's prefetch counts
# messages, so it holds up to prefetch × this many events of a replay (scoring, prefetch
# 1,000: 50,000 events, about 20 MB; 100,000 at most)
REPLAY_PACK = 50
MAX_PACK = 100


@dataclass(frozen=True)
class Settings:
    """Everything a service reads from its environment."""

    service: str = "all"
    amqp_url: str = "memory://"
    mongodb_url: str = "mongomock://"
    admin_token: str = field(default_factory=lambda: secrets.token_urlsafe(24), repr=False)
    admin_token_generated: bool = False
    # 127.0.0.1 unless told otherwise: the demo signs with a key published in its source,
    # so nothing should reach it from another machine by accident (the image sets 0.0.0.0)
    host: str = "127.0.0.1"
    port: int = 8000
    public_base_url: str = "http://127.0.0.1:8000"
    smtp_url: str | None = None
    smtp_from: str = "congso@localhost"
    webhook_secret: str = field(default_factory=lambda: secrets.token_hex(32), repr=False)
    webhook_secret_generated: bool = False
    metrics_token: str | None = field(default=None, repr=False)
    # survey's Ed25519 session key (base64 of its 32 raw bytes, or PEM); None: generated
    # once and kept in survey's database, its public half announced to the others
    session_signing_key: str | None = field(default=None, repr=False)
    # the public keys sessions are checked against; empty: those survey announces
    session_public_keys: tuple[str, ...] = ()
    # the MAC key that turns a sign-in nonce into a link (survey and notify); None: one
    # derived from ADMIN_TOKEN, which both already share
    signin_link_key: str | None = field(default=None, repr=False)
    # None: survey keeps random per-purpose keys in its own database (see survey/keys.py)
    secret_key: str | None = field(default=None, repr=False)
    trusted_proxies: int = 0
    load_calendar: bool = False
    rate_limit_storage_url: str | None = None
    tz_name: str = "Asia/Ho_Chi_Minh"
    ratings_per_minute: int = 60
    # the burst rule's default limit: more ratings than this of one official (or counter)
    # from one device or address within 30 minutes are held; 0 turns the rule off
    rating_burst: int = 10
    # scoring applies events in batches of up to this many (1: one at a time)
    scoring_batch: int = SCORING_BATCH
    log_level: str = "INFO"
    log_format: str = "text"
    web_concurrency: int = 1
    web_threads: int = 8
    demo: bool = False

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.tz_name)

    @property
    def uses_memory_bus(self) -> bool:
        return self.amqp_url.startswith("memory://")

    @classmethod
    def from_env(cls, service: str = "all", env: Mapping[str, str] | None = None) -> Settings:
        """Read and validate the settings of `service` from `env` (default os.environ)."""
        env = os.environ if env is None else env
        if service not in DEFAULT_PORTS:
            raise ConfigError("service", f"unknown service {service!r}")

        def get(name: str, default: str | None = None) -> str | None:
            value = env.get(name)
            if value is None or value.strip() == "":
                return default
            return value.strip()

        amqp_url = get("AMQP_URL", "memory://")
        _check_scheme("AMQP_URL", amqp_url, {"memory", "amqp", "amqps"})
        mongodb_url = get("MONGODB_URL", "mongomock://")
        _check_scheme("MONGODB_URL", mongodb_url, {"mongomock", "mongodb", "mongodb+srv"})
        port = _int("PORT", get("PORT", str(DEFAULT_PORTS[service])), 1, 65535)
        host = _host(get("HOST", "127.0.0.1"))
        public_base_url = get("PUBLIC_BASE_URL", f"http://127.0.0.1:{port}").rstrip("/")
        _check_scheme("PUBLIC_BASE_URL", public_base_url, {"http", "https"}, need_host=True)
        smtp_url = get("SMTP_URL")
        if smtp_url is not None:
            _check_scheme("SMTP_URL", smtp_url, {"smtp", "smtps"}, need_host=True)
        tz_name = get("TZ_NAME", "Asia/Ho_Chi_Minh")
        try:
            ZoneInfo(tz_name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError("TZ_NAME", f"unknown time zone {tz_name!r}") from None
        admin_token = get("ADMIN_TOKEN")
        if admin_token is not None and len(admin_token) < 16:
            raise ConfigError("ADMIN_TOKEN", "must be at least 16 characters")
        webhook_secret = get("WEBHOOK_SECRET")
        log_level = get("LOG_LEVEL", "INFO").upper()
        if log_level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ConfigError("LOG_LEVEL", "must be DEBUG, INFO, WARNING or ERROR")
        log_format = get("LOG_FORMAT", "text").lower()
        if log_format not in {"text", "json"}:
            raise ConfigError("LOG_FORMAT", "must be text or json")

        generated = {}
        if admin_token is None:
            generated["admin_token"] = secrets.token_urlsafe(24)
        if webhook_secret is None:
            generated["webhook_secret"] = secrets.token_hex(32)
        return cls(
            service=service,
            amqp_url=amqp_url,
            mongodb_url=mongodb_url,
            admin_token=admin_token or generated["admin_token"],
            admin_token_generated=admin_token is None,
            host=host,
            port=port,
            public_base_url=public_base_url,
            smtp_url=smtp_url,
            smtp_from=get("SMTP_FROM", "congso@localhost"),
            webhook_secret=webhook_secret or generated["webhook_secret"],
            webhook_secret_generated=webhook_secret is None,
            metrics_token=get("METRICS_TOKEN"),
            session_signing_key=_session_key(get("SESSION_SIGNING_KEY")),
            session_public_keys=_public_keys(get("SESSION_PUBLIC_KEYS")),
            signin_link_key=get("SIGNIN_LINK_KEY"),
            secret_key=get("SECRET_KEY"),
            trusted_proxies=_int("TRUSTED_PROXIES", get("TRUSTED_PROXIES", "0"), 0, 10),
            load_calendar=_bool("NOTIFY_LOAD_CALENDAR", get("NOTIFY_LOAD_CALENDAR", "false")),
            rate_limit_storage_url=get("RATE_LIMIT_STORAGE_URL"),
            tz_name=tz_name,
            ratings_per_minute=_int(
                "RATINGS_PER_MINUTE", get("RATINGS_PER_MINUTE", "60"), 1, 100_000
            ),
            rating_burst=_int("RATING_BURST", get("RATING_BURST", "10"), 0, 1000),
            scoring_batch=_int("SCORING_BATCH", get("SCORING_BATCH", str(SCORING_BATCH)), 1,
                               1000),
            log_level=log_level,
            log_format=log_format,
            web_concurrency=_int("WEB_CONCURRENCY", get("WEB_CONCURRENCY", "1"), 1, 64),
            web_threads=_int("WEB_THREADS", get("WEB_THREADS", "8"), 1, 256),
            # the fixed demo signing key only ever signs the in-memory demo data
            demo=service == "all" and mongodb_url.startswith("mongomock://"),
        )


def _session_key(raw: str | None) -> str | None:
    if raw is None:
        return None
    from shared.sessions import private_key_from_text

    try:
        private_key_from_text(raw)
    except (ValueError, TypeError):
        raise ConfigError("SESSION_SIGNING_KEY", "must be an Ed25519 private key (base64 of "
                                                 "its 32 bytes, or PEM)") from None
    return raw


def _public_keys(raw: str | None) -> tuple[str, ...]:
    if raw is None:
        return ()
    from shared.sessions import public_key_from_text

    keys = tuple(k for k in re.split(r"[\s,]+", raw) if k)
    for key in keys:
        try:
            public_key_from_text(key)
        except (ValueError, TypeError):
            raise ConfigError("SESSION_PUBLIC_KEYS", f"{key[:12]}… is not an Ed25519 public "
                                                     "key (base64 of its 32 bytes)") from None
    return keys


def _host(raw: str) -> str:
    """An address to listen on: an IPv4 or IPv6 address, or a host name."""
    import ipaddress

    try:
        ipaddress.ip_address(raw)
        return raw
    except ValueError:
        pass
    if re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?", raw):
        return raw
    raise ConfigError("HOST", f"must be an address to listen on (127.0.0.1, 0.0.0.0, ::), "
                              f"got {raw!r}")


def _bool(name: str, raw: str) -> bool:
    value = raw.lower()
    if value not in {"1", "0", "true", "false", "yes", "no"}:
        raise ConfigError(name, f"must be true or false, got {raw!r}")
    return value in {"1", "true", "yes"}


def _int(name: str, raw: str, low: int, high: int) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(name, f"must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(name, f"must be between {low} and {high}, got {value}")
    return value


def _check_scheme(name: str, url: str, schemes: set[str], need_host: bool = False) -> None:
    parts = urlsplit(url)
    if parts.scheme not in schemes:
        allowed = ", ".join(f"{s}://" for s in sorted(schemes))
        raise ConfigError(name, f"must start with one of {allowed}, got {url!r}")
    if need_host and not parts.hostname:
        raise ConfigError(name, f"must name a host, got {url!r}")
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ConfigError(name, f"has an invalid port: {url!r}") from None
