"""HTTP routers: thin adapters from requests to editor services."""
