"""Feedback on answers: a store, a review report and an export of confirmed questions.

Off by default (FEEDBACK=on turns it on). The Discord glue records each answer with
`AnswerRecord.new(...)` and `FeedbackStore.record_answer` (bot/feedback/store.py), passes the
answer id in the buttons' custom ids, and calls `vote` / `pick`; every store failure is
FeedbackUnavailable. Import the modules themselves: this package imports nothing, so that
reading the settings does not load the database drivers.
"""
