"""Wiring for a Lambda container: connections (settings, secrets, clients, token cache) and
observability (the handler decorator, metrics, tracing)."""
