"""Connect a service to its own database: `mongodb://…` or the in-memory `mongomock://`."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from urllib.parse import urlsplit

import mongoengine
from mongoengine.connection import get_db

from shared.loop import STOP, BackgroundLoop, Backoff

logger = logging.getLogger(__name__)

# Fail a request fast (and report not-ready) instead of hanging when MongoDB is away.
SERVER_SELECTION_TIMEOUT_MS = 3000


_MOCK_STORES: dict = {}


def forget_mock_store(url: str) -> None:
    """Drop the in-memory data behind a `mongomock://` URL (tests clean up with it)."""
    _MOCK_STORES.pop(url, None)


def database_name(url: str, default: str) -> str:
    """The database named in the URL's path, else `default`."""
    path = urlsplit(url).path.lstrip("/")
    return path.split("/")[0] or default


def connect(url: str, *, alias: str, default_db: str, shared_url: bool = False):
    """(Re)register mongoengine alias `alias` on `url`; return the pymongo database.

    With `shared_url` (all services in one process on one URL) a database named in the URL
    gets the alias as suffix, so each service still has a database of its own.
    """
    mongoengine.disconnect(alias)
    name = database_name(url, default_db)
    if shared_url and name != default_db:
        name = f"{name}_{alias}"
    if url.startswith("mongomock://"):
        import mongomock

        from shared import mongomock_speedups

        mongomock_speedups.install()
        # One in-memory server per URL for the life of the process, as a real server would
        # outlive a reconnect: a service restarted in-process finds its data again.
        store = _MOCK_STORES.setdefault(url, mongomock.store.ServerStore())
        mongoengine.connect(
            db=name, alias=alias, host="mongodb://localhost", _store=store,
            mongo_client_class=mongomock.MongoClient, tz_aware=True,
            uuidRepresentation="standard",
        )
    else:
        # a timeout given in the URL wins (pymongo lets keyword arguments override it)
        timeout = ({} if "serverselectiontimeoutms" in url.lower()
                   else {"serverSelectionTimeoutMS": SERVER_SELECTION_TIMEOUT_MS})
        mongoengine.connect(db=name, alias=alias, host=url, tz_aware=True,
                            uuidRepresentation="standard", connect=False, **timeout)
    return get_db(alias)


def ping(alias: str) -> bool:
    """True when the database of `alias` answers."""
    try:
        get_db(alias).command("ping")
        return True
    except Exception as exc:
        logger.warning("database %s not reachable: %s", alias, exc)
        return False


def ensure_indexes(*documents) -> None:
    """Create the indexes of mongoengine documents (safe to repeat)."""
    for doc in documents:
        doc.ensure_indexes()


class DatabaseInit:
    """Create a service's indexes at start, retrying with backoff while MongoDB is away."""

    def __init__(self, alias: str, create_indexes, *, max_backoff: float = 15.0):
        self.alias = alias
        self._create = create_indexes
        self._done = threading.Event()
        self._loop = BackgroundLoop(f"db-init-{alias}", self._step,
                                    backoff=Backoff(0.5, max_backoff), quiet=(Exception,))

    @property
    def ready(self) -> bool:
        return self._done.is_set() and ping(self.alias)

    def start(self) -> None:
        """Try at once (most starts find the database up); else keep trying in the back."""
        try:
            self._step()
        except Exception as exc:
            logger.warning("database %s not ready: %s", self.alias, exc)
            self._loop.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._loop.stop(timeout)

    def wait(self, timeout: float) -> bool:
        return self._done.wait(timeout)

    def _step(self):
        self._create()
        if not self._done.is_set():
            self._done.set()
            logger.info("database %s ready", self.alias)
        return STOP


def stored_now() -> datetime:
    """Now in UTC to the millisecond, as BSON keeps it: what a write answers with is then
    what a later read gives back."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)
