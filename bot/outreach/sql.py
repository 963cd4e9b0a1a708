"""The SQL implementation of :class:`~bot.outreach.service.OutreachService`, one mixin per job.

- :mod:`bot.outreach.sql_answers`: the open question a text asked a number, answers, waitlist offers accepted;
- :mod:`bot.outreach.sql_waitlist`: joining and leaving the waitlist, texting consent;
- :mod:`bot.outreach.sql_staff`: what the staff page lists.
"""

from __future__ import annotations

from bot.outreach.service import OutreachService
from bot.outreach.sql_answers import SqlAnswers
from bot.outreach.sql_staff import SqlStaffViews
from bot.outreach.sql_waitlist import SqlWaitlist


class SqlOutreachService(SqlAnswers, SqlWaitlist, SqlStaffViews, OutreachService):
    """Outreach on the clinic database at ``url`` (default: ``CLINIC_DATABASE_URL`` at call time)."""
