"""The web platform (issue #5): FastAPI, server-rendered pages (Jinja2 + HTMX), ECharts
vendored, the HTTP API under /api/v1. Routes are thin: they call services and render."""
