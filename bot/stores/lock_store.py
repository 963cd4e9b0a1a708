"""Conversation lock store chosen by settings.

Rasa's ``endpoints.yml`` names one lock store type; this one picks Redis when
``REDIS_URL`` is set (required when several Rasa instances share conversations)
and Rasa's in-memory store otherwise, so one ``endpoints.yml`` serves the laptop
and production.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import unquote, urlsplit

from rasa.core.lock import TicketLock
from rasa.core.lock_store import InMemoryLockStore, LockStore, RedisLockStore

from bot.settings import get_settings

logger = logging.getLogger(__name__)


def redis_lock_store_from_url(url: str) -> RedisLockStore:
    """Build Rasa's Redis lock store from a ``redis://`` or ``rediss://`` URL."""
    parsed = urlsplit(url)
    if parsed.scheme not in {"redis", "rediss"}:
        raise ValueError("REDIS_URL must start with redis:// or rediss://")
    path = parsed.path.strip("/")
    return RedisLockStore(
        host=parsed.hostname or "localhost",
        port=parsed.port or 6379,
        db=int(path) if path.isdigit() else 0,
        username=unquote(parsed.username) if parsed.username else None,
        password=unquote(parsed.password) if parsed.password else None,
        use_ssl=parsed.scheme == "rediss",
        key_prefix="clinic",
        socket_timeout=5,
    )


class ClinicLockStore(LockStore):
    """Delegates to Redis or in-memory locking according to ``REDIS_URL``."""

    def __init__(self, endpoint_config: Any | None = None, **_: Any) -> None:
        """Pick the backing store once, when Rasa starts."""
        redis_url = get_settings().redis_url
        if redis_url:
            self.backend: LockStore = redis_lock_store_from_url(redis_url)
            logger.info("conversation locks: Redis")
        else:
            self.backend = InMemoryLockStore()
            logger.info("conversation locks: in memory (one Rasa instance only)")

    def get_lock(self, conversation_id: str) -> TicketLock | None:
        """Fetch the lock of a conversation from the backing store."""
        return self.backend.get_lock(conversation_id)

    def delete_lock(self, conversation_id: str) -> None:
        """Delete the lock of a conversation from the backing store."""
        self.backend.delete_lock(conversation_id)

    def save_lock(self, lock: TicketLock) -> None:
        """Save a lock in the backing store."""
        self.backend.save_lock(lock)
