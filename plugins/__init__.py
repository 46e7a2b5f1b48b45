"""Concilia's built-in service-area plugins: health, family, leisure and work.

Each sub-package is a plugin of its own, registered by an entry point in ``concilia.plugins``.
"""
