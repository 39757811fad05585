"""Benchmarks: figures printed, not asserted (`make bench`, or `python -m bench <name>`)."""
