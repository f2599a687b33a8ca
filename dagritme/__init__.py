"""Dagritme: learn a household's daily rhythm from motion and door sensors, alert consented carers.

This package holds the shared contract (event and alert models, topics, clock, dataset
format) and the one command-line entry point; the parts live beside it in `gateway`,
`detector`, `dashboard`, `firmware_sim` and `store`.
"""

__version__ = "0.1.0"
