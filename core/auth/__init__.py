"""Accounts: registration, verification, login, password reset, roles."""
