"""What the conversation and lock stores raise when they are down, so channels catch exactly that.

Imported lazily by the routes that need it: it pulls in Rasa's tracker store.
"""

from __future__ import annotations

import asyncio

from rasa.core.lock_store import LockError
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from bot.stores.tracker_store import ConversationStoreError

STORE_ERRORS: tuple[type[Exception], ...] = (
    ConversationStoreError,  # our SQL tracker store, without the statement's parameters
    SQLAlchemyError,  # Rasa's own SQL tracker store, if configured instead
    RedisError,  # the Redis lock store cannot be reached
    LockError,  # the conversation lock was not acquired in time
    asyncio.TimeoutError,
    OSError,  # a socket to a store failed
)
"""A store outage: the caller is told to try again; anything else is a bug and propagates."""
