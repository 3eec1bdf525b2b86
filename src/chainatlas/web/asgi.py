"""ASGI entry for process managers and `serve --workers N`: `chainatlas.web.asgi:app`."""

from __future__ import annotations

from chainatlas.web.app import create_app

app = create_app(migrate=False)
