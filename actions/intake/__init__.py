"""The intake form: a verified patient's details, health and insurance answers, and consents.

The form (``intake_form``) asks one thing at a time and checks each answer
(phone numbers with ``phonenumbers``, e-mails with ``email-validator``, dates of
birth with ``bot.timeparse``). After every valid answer the answers so far are
saved as the patient's draft, so the patient can pause ("pause", "later", or
simply leave) and pick up where they left off, in this conversation or a later
one. "Go back", "change my email" or "my phone number is wrong" clear that
answer and ask it again. At the end the patient sees a short summary; only a
yes stores a submission (``RecordsService.submit_intake``, which also drops
the draft). Consent to treatment is required; a no ends the form politely.

Slot values are never logged: only patient ids, slot names and reasons.

The package, by job: ``slots.py`` (names and order), ``vocabulary.py`` (the
words answers are read with), ``answers.py`` (reading one answer),
``fields.py`` (the table of questions), ``form.py`` (the validation action),
``record.py`` (answers as one dict, and the summary) and ``submit.py`` (the
questions that need data, submit and pause).
"""
