"""Interface text in simplified Chinese (first) and English.

Messages live in `messages/*.yaml`, one file per page family, each key mapping to
`{zh: …, en: …}`; the files are merged once and a key defined twice is an error, so page
families can grow their own files without colliding.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml

LANGUAGES = ("zh", "en")


@cache
def messages() -> dict[str, dict[str, str]]:
    merged: dict[str, dict[str, str]] = {}
    folder = resources.files("chainatlas.web") / "messages"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        data: dict[str, Any] = yaml.safe_load(entry.read_text("utf-8")) or {}
        for key, value in data.items():
            if key in merged:
                raise ValueError(f"message {key!r} defined twice ({entry.name})")
            if not isinstance(value, dict) or set(value) != set(LANGUAGES):
                raise ValueError(f"message {key!r} in {entry.name} needs exactly zh and en")
            merged[key] = {lang: str(value[lang]) for lang in LANGUAGES}
    return merged


def translate(key: str, lang: str, **values: Any) -> str:
    """The message in `lang`; an unknown key shows as itself so a gap is visible."""
    entry = messages().get(key)
    text = entry[lang if lang in LANGUAGES else "zh"] if entry else key
    return text.format(**values) if values else text
