"""Write simulated homes as datasets (DESIGN.md format) with their ground truth."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from dagritme.dataset import write_dataset
from firmware_sim.home import SimulatedHome
from firmware_sim.scenarios import write_ground_truth

logger = logging.getLogger(__name__)

GROUND_TRUTH_FILE = "ground_truth.jsonl"


@dataclass(frozen=True, slots=True)
class DatasetSummary:
    folder: Path
    households: int
    events: int
    injections: int


def dataset_folder(root: Path, home: SimulatedHome) -> Path:
    """Each home in a subfolder named after its household id, which is what `replay` and
    `evaluate` take as the household, so alerts and ground truth name the same household."""
    return root / home.household


def write_homes(
    root: Path, homes: Sequence[SimulatedHome], start: datetime, end: datetime
) -> DatasetSummary:
    """Each home's canonical events in [start, end) as a dataset, plus ground_truth.jsonl."""
    total = 0
    for home in homes:
        folder = dataset_folder(root, home)
        count = write_dataset(folder, home.sensors(), home.events(start, end), home.tz)
        logger.debug("wrote %d events of one simulated home", count)
        total += count
    injections = [inj for home in homes for inj in home.injections]
    write_ground_truth(root / GROUND_TRUTH_FILE, injections)
    return DatasetSummary(root, len(homes), total, len(injections))
