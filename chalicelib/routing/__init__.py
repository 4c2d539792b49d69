"""Automatic call distribution: agents, queues, and who serves which waiting caller."""
