"""The consoles: sign-in and roles (``access``, ``tokens``, ``sign_in``, ``guard``) and the
pages people use in a browser (``pages``, ``routes``; the agent desk, the supervisor's wallboard,
the campaign manager)."""
