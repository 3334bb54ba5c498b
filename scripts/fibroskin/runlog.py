"""Logging for the scripts Snakemake runs: everything goes to the rule's ``log:`` file."""

from __future__ import annotations

import logging
import sys
from pathlib import Path


def rule_logger(log_path: str | Path, name: str = "fibroskin") -> logging.Logger:
    """Send log records and uncaught tracebacks of a rule's script to its log file."""
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(log_path, mode="w")
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger(name)
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logging.captureWarnings(True)
    logging.getLogger("py.warnings").handlers[:] = [handler]
    sys.stderr = open(log_path, "a")  # noqa: SIM115 - tracebacks of the script end up in its log
    return logger
