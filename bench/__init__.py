"""Benchmarks: figures printed, not asserted (`make bench`, or `python -m bench <name>`)."""

import os
import sys
import warnings
from contextlib import contextmanager

# The functions' own output (JSON logs, EMF metrics: what CloudWatch Logs would get) is not the
# benchmark's. One sink for the whole process: Powertools' logger keeps the stream it first saw.
_SINK = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process


@contextmanager
def functions_output_discarded():
    import logging

    warnings.filterwarnings("ignore")
    logging.getLogger("moto").setLevel(logging.CRITICAL)
    real, sys.stdout = sys.stdout, _SINK
    try:
        yield real
    finally:
        sys.stdout = real
