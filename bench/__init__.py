"""Benchmarks: figures printed, not asserted (`make bench`, or `python -m bench <name>`)."""

import os
import sys
import warnings
from contextlib import contextmanager

from okta_auth0_sync.services.provisioning.report import PRICE_PER_GB_SECOND, PRICE_PER_REQUEST, PRICE_PER_TRANSITION

# AWS list prices (us-east-1: Step Functions Standard per transition, Lambda per request and arm64
# GB-second), the same the provisioning run's report uses: one price list for every figure.
PRICE = {"transition": PRICE_PER_TRANSITION, "request": PRICE_PER_REQUEST, "gb_second": PRICE_PER_GB_SECOND}

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
