"""Outbound campaigns (issue 10, under way): so far the pacing arithmetic (``pacing.py``)."""
