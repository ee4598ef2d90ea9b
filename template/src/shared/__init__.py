"""Infrastructure shared by every feature: models, logging, audit trail, services."""
