"""Repositories of the audit trail tables: append and read, never change."""
