"""Measurements printed by make targets: held-out accuracy, risk detection, latency."""

import logging


def quiet_rasa_logs() -> None:
    """Rasa logs every parsed message at debug level; held-out texts must not scroll past."""
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    logging.getLogger("rasa").setLevel(logging.WARNING)
