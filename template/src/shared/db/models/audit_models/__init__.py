"""Audit trail tables, one per feature, and their action codes."""
