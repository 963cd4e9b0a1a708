"""Errors of the conversation lock store, for channels to catch.

:class:`LockUnavailable` subclasses Rasa's ``LockError`` (so every place that
already treats ``LockError`` as a store outage, ``channels/store_errors.py``
among them, catches it) and ``RuntimeError``. Its message names the reason
and the error class only, never a conversation's content.
"""

from __future__ import annotations

from rasa.core.lock_store import LockError


class LockUnavailable(LockError, RuntimeError):
    """The conversation lock could not be taken: Redis is down or too slow, or the wait ran out.

    The turn did not run; the patient should be told to send the message again.
    """
