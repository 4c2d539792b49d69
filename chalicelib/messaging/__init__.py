"""Texts: sending SMS (and, later, the inbound SMS channel)."""
