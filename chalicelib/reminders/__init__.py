"""Payment reminders: accounts, payments, reminder policies and runs."""
