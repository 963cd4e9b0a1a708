"""What the staff page lists: texts planned and sent with their answers, and the waitlist.

Being written in this session (issue 13); the methods are defined in
:class:`bot.outreach.service.OutreachService`.
"""

from __future__ import annotations

from bot.outreach.sql_base import SqlOutreachBase


class SqlStaffViews(SqlOutreachBase):
    """upcoming_texts, waitlist."""
