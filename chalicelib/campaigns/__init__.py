"""Outbound campaigns (issue 10, under way): contact lists, the pacing arithmetic
(``pacing.py``), the adaptive pacer (``pacer.py``) and the calls-per-second throttle
(``throttle.py``)."""
