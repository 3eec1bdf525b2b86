"""The error a user can act on: one line, in Chinese and English."""

from __future__ import annotations


class UserError(Exception):
    def __init__(self, message_zh: str, message_en: str) -> None:
        self.message_zh = message_zh
        self.message_en = message_en
        super().__init__(f"{message_zh} / {message_en}")
