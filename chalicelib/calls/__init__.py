"""Calls as every capability sees them (pure): ``model.Call``, one call's record, and
``model.Hotline``, the number it was made to."""
