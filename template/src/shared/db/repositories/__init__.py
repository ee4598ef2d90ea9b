"""Repositories: queries and writes for one table each. They flush; they never commit."""
