"""Compliance work for workers: load the redaction engine before the first
message arrives, so the first answer does not pay for it."""

import logging

from celery.signals import worker_ready

logger = logging.getLogger(__name__)


@worker_ready.connect
def warm_up_redaction(**kwargs) -> None:
    from compliance import redaction

    try:
        redaction.warm_up()
    except Exception:  # a failed warm-up only costs the first call its load time
        logger.exception("Could not warm up the redaction engine")
