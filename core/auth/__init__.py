"""Accounts: registration, verification, login, password reset, roles.

* :mod:`core.auth.service` – the rules (register_user, verify_email, authenticate,
  start_password_reset, reset_password, change_password…), used by views and the CLI;
* :mod:`core.auth.access` – role guards for views (require_district_admin, require_staff_of…);
* :mod:`core.auth.passwords` and :mod:`core.auth.tokens` – hashing, strength, signed links.
"""
