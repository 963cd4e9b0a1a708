"""Answers to texts: the open question a text asked a number, recorded answers, waitlist offers accepted.

Being written in this session (issue 13); the methods are defined in
:class:`bot.outreach.service.OutreachService`.
"""

from __future__ import annotations

from bot.outreach.sql_base import SqlOutreachBase


class SqlAnswers(SqlOutreachBase):
    """open_prompt, prompt, mark_recalled, record_answer, accept_offer."""
