"""Structured logging: ``get_logger(name).info("event", key=value)``."""
