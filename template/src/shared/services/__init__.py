"""Editor services: every change to an entity, in one transaction with its audit row."""
