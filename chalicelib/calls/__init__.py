"""Calls as every capability sees them: ``model.Call``, one call's record (pure)."""
