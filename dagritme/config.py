"""Loading service configuration: TOML files validated by pydantic models.

Every service config is a tree of pydantic models with `extra="forbid"` and a description
on every field, so a typo is an error with its location, not a silently ignored key.
"""

from __future__ import annotations

import argparse
import tomllib
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

ConfigT = TypeVar("ConfigT", bound=BaseModel)


class StrictModel(BaseModel):
    """Base of every config section: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ConfigError(ValueError):
    """A configuration that cannot be used; the message lists each problem with its location."""


def format_validation_error(err: ValidationError, source: str) -> str:
    lines = [f"{source}: {err.error_count()} problem(s)"]
    for problem in err.errors():
        where = ".".join(str(part) for part in problem["loc"]) or "(top level)"
        lines.append(f"  {where}: {problem['msg']}")
    return "\n".join(lines)


def add_config_arguments(parser: argparse.ArgumentParser, what: str) -> None:
    """The two flags every service takes: `--config FILE` and `--validate-config`.

    A ConfigError raised by the command reaches `dagritme.cli.main`, which prints it with
    each problem's location and exits 2: the one place bad configuration is reported.
    """
    parser.add_argument("--config", type=Path, help=f"{what} (TOML); defaults if omitted")
    parser.add_argument(
        "--validate-config",
        action="store_true",
        help="check the config, print each problem with its location, exit 2 when bad",
    )


def load_config(path: Path | None, model: type[ConfigT]) -> ConfigT:
    """Read a TOML file into `model`; no file means the model's defaults."""
    data: dict[str, object] = {}
    source = "defaults"
    if path is not None:
        source = str(path)
        try:
            with path.open("rb") as fh:
                data = tomllib.load(fh)
        except FileNotFoundError as err:
            raise ConfigError(f"{path}: no such config file") from err
        except tomllib.TOMLDecodeError as err:
            raise ConfigError(f"{path}: not valid TOML: {err}") from err
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise ConfigError(format_validation_error(err, source)) from err
