"""Template errors that name the file, line and field, in Chinese and English."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TemplateIssue:
    file: str
    line: int
    field: str
    message_zh: str
    message_en: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.message_zh} / {self.message_en}"


class AtlasError(ValueError):
    """Raised when one or more templates are invalid; carries every issue found."""

    def __init__(self, issues: list[TemplateIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))
