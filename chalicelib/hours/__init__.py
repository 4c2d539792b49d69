"""Opening hours and calling windows: the one owner of "are we open" and "may we call now".

- ``weekly``: the written form of weekly hours (``{"mon-fri": ["09:00-17:00"]}``), parsed and
  checked; flows' *hours* nodes and queues' ``hours`` are written the same way;
- ``schedule``: a weekly schedule in one time zone, with holidays: open at an instant, the next
  opening and the next closing (DST-correct, without stepping through minutes); and a queue's
  ``{timezone, weekly, holidays}`` (empty: always open);
- ``calling_window``: 08:00-21:00 in the customer's local time, the zones read from their number,
  combined with the queue's hours (callbacks today; outbound campaigns next).

Pure: no AWS, no HTTP, no clock of its own. Every instant is an aware datetime passed in; answers
are aware datetimes in UTC.
"""
