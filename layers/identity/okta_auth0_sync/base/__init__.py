"""Foundations every layer uses: errors (the state machines' Retry/Catch contract), call counters,
the container lifecycle and the redacting logger. Imports nothing else from the package."""
