"""Loading service configuration: TOML files validated by pydantic models.

Every service config is a tree of pydantic models with `extra="forbid"` and a description
on every field, so a typo is an error with its location, not a silently ignored key.
"""

from __future__ import annotations

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
