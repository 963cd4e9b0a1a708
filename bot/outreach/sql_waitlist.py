"""Joining and leaving the waitlist, and texting consent.

Being written in this session (issue 13); the methods are defined in
:class:`bot.outreach.service.OutreachService`.
"""

from __future__ import annotations

from bot.outreach.sql_base import SqlOutreachBase


class SqlWaitlist(SqlOutreachBase):
    """join_waitlist, give_text_consent, has_text_consent, waitlist_of, leave_waitlist."""
