"""Callbacks: customers who asked to be called back instead of waiting on hold.

- ``model``: kinds, statuses, ids and the due-index shard (pure);
- ``numbers``: which numbers may be called back, as E.164 (pure);
- ``slots``: a preferred time against the queue's hours (pure);
- ``backoff``: how long to wait between attempts (pure); when a call may be placed at all
  (08:00-21:00 for the customer, the queue's hours) is ``chalicelib.hours``' rule;
- ``requests``: the one entry point that creates, cancels and lists requests (the web API, the
  queue's "press 1", the missed-call follow-up and the SMS ``CANCEL CALL`` reply go through it);
- ``web`` and ``routes``: ``POST/GET/DELETE /callbacks`` and the embeddable widget (``widget/``);
- ``dispatcher``: the job that calls customers back; ``missed``: missed calls and their follow-up.

Storage lives in ``chalicelib.store.callbacks``.
"""
