"""Payment reminders (issue 11): billing accounts, their balances and payments (``model.py``,
``accounts_api.py``; storage in ``store/billing.py``), and the reminders that chase them."""
