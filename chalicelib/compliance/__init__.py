"""The one compliance gate every outbound call and text passes (``rules.py``: the pure
decision; ``gate.py``: the facts from storage and the record of what was decided)."""
