"""Append-only audit log: who did what, to which record, when, from where and why."""

from audit.operations import record_event

__all__ = ["record_event"]
