"""Run the web platform under uvicorn."""

from __future__ import annotations

import os

from chainatlas.settings import Settings


def serve_app(settings: Settings, host: str, port: int, workers: int = 1) -> None:
    import uvicorn

    from chainatlas.db.migrate import upgrade

    upgrade(settings.app_database_url)
    print(f"网页平台 / web platform: http://{host}:{port}/  (Ctrl+C 退出 / to stop)", flush=True)
    if workers > 1:
        # worker processes build their own app from the same environment
        os.environ["CHAINATLAS_HOME"] = str(settings.home)
        uvicorn.run(
            "chainatlas.web.asgi:app",
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
            proxy_headers=True,
        )
        return
    from chainatlas.web.app import create_app

    uvicorn.run(
        create_app(settings, migrate=False),
        host=host,
        port=port,
        log_level="warning",
        proxy_headers=True,
    )
