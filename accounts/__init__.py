"""Organisations, users, roles, login sessions and API tokens."""
