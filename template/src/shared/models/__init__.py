"""API-facing models: the acting user, DTOs and the list/page shapes."""
