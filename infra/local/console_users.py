"""The laptop's console users (``make run`` and the tests): who they are, and the environment
that gives them to the app (``CONSOLE_USERS``, ``CONSOLE_SIGNING_KEY``; ``chalicelib.settings``).

In AWS the stage's Cognito user pool holds the users instead (README: Consoles).
"""

from __future__ import annotations

import json
import secrets

from chalicelib.console.sign_in import hash_password

# username: (password, role, name, agent id, queues). The agents are the demo's two
# (infra/local/demo.py); the supervisor oversees the demo's queue.
DEMO_USERS = {
    "agent": ("agent", "agent", "Alice", "ag-alice", ("support",)),
    "agent2": ("agent2", "agent", "Bo", "ag-bo", ("support",)),
    "supervisor": ("supervisor", "supervisor", "Sam Supervisor", None, ("support",)),
    "admin": ("admin", "admin", "Ada Admin", None, ()),
}


def console_environment(signing_key: str | None = None) -> dict[str, str]:
    """``CONSOLE_USERS`` (passwords hashed) and ``CONSOLE_SIGNING_KEY`` (new and random unless
    given: sessions end when the stack restarts)."""
    users = {
        name: {"password": hash_password(password), "role": role, "name": full_name,
               "agent_id": agent_id, "queues": list(queues)}
        for name, (password, role, full_name, agent_id, queues) in DEMO_USERS.items()
    }
    return {"CONSOLE_USERS": json.dumps(users),
            "CONSOLE_SIGNING_KEY": signing_key or secrets.token_urlsafe(48)}
