"""Shared infrastructure: configuration, database sessions, crypto, auth helpers, API plumbing."""
