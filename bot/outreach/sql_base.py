"""What the outreach SQL mixins share: the database URL, sessions whose failures read as outreach errors."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Iterator

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session

from bot.db import session_scope
from bot.outreach.service import OutreachUnavailable
from bot.settings import get_settings

logger = logging.getLogger(__name__)


class SqlOutreachBase:
    """The clinic database at ``url`` (default ``CLINIC_DATABASE_URL``, read at call time)."""

    def __init__(self, url: str | None = None) -> None:
        """Remember where the database is; the engine is created on first use."""
        self._url_override = url

    @property
    def url(self) -> str:
        """The database URL this service uses right now."""
        return self._url_override or get_settings().clinic_database_url

    @staticmethod
    def _now(now: dt.datetime | None) -> dt.datetime:
        """An aware "now" (UTC) from ``now`` or the settings' clock (``CLINIC_TODAY``/``CLINIC_TIME``)."""
        return (now or get_settings().now()).astimezone(dt.timezone.utc)

    @contextlib.contextmanager
    def _session(self, operation: str) -> Iterator[Session]:
        """A transaction whose database failures surface as :class:`OutreachUnavailable` (class name logged only)."""
        try:
            with session_scope(self.url) as session:
                yield session
        except (DBAPIError, PoolTimeoutError) as exc:
            reason = type(getattr(exc, "orig", None) or exc).__name__
            logger.error("%s: clinic database unavailable (%s)", operation, reason)
            raise OutreachUnavailable("the clinic database is unavailable") from exc
