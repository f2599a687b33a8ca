"""A small message catalogue: every user-facing string has a key in locales/<lang>.json."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

LANGUAGES = ("en", "nl")
FALLBACK = "en"


@cache
def catalogue(language: str) -> dict[str, str]:
    if language not in LANGUAGES:
        raise KeyError(f"no catalogue for language {language!r}")
    text = resources.files("dashboard").joinpath("locales", f"{language}.json").read_text("utf-8")
    messages: dict[str, str] = json.loads(text)
    return messages


def translate(language: str, key: str, **values: Any) -> str:
    """The message for `key` in `language`, English when missing, the key when unknown."""
    lang = language if language in LANGUAGES else FALLBACK
    template = catalogue(lang).get(key) or catalogue(FALLBACK).get(key) or key
    return template.format(**values) if values else template


class Translator:
    """Bound to one language, for templates: `t('key', name=...)`."""

    def __init__(self, language: str) -> None:
        self.language = language if language in LANGUAGES else FALLBACK

    def __call__(self, key: str, **values: Any) -> str:
        return translate(self.language, key, **values)
