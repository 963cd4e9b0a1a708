"""Outreach: texts the clinic sends first (visit reminders, waitlist offers, follow-ups, notes ready).

How it fits together:

- :mod:`bot.outreach.models`: the ``outbox`` (one row per text, ``dedupe_key`` unique),
  the waitlist and its offers, freed slots, the clinic's texting policy;
- :mod:`bot.outreach.policy`: quiet hours and reminder offsets from clinic data;
- :mod:`bot.outreach.texts`: the words, from ``domain/outreach.yml`` (content staff edit them);
- :mod:`bot.outreach.planner`: turns visits, summaries and freed slots into outbox rows;
- :mod:`bot.outreach.outbox`: takes due rows under a lease and sends them through
  :func:`bot.outreach.sms.send_sms`, exactly once (README, "Texts the clinic sends first");
- :mod:`bot.outreach.worker`: ``python -m bot worker``, the loop that plans and sends;
- :mod:`bot.outreach.service`: what conversations and the staff page ask of it
  (the open question a text asked, answers, the waitlist).
"""
