"""Persistence: table models, repositories and the transaction helper."""
