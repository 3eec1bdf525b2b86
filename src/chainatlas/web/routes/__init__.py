"""Route modules, one per page family; each exports `router` and is found here by name.
Every router except `public` requires an authenticated user and checks CSRF on unsafe
methods."""

from __future__ import annotations

import importlib
import pkgutil

from fastapi import Depends, FastAPI

from chainatlas.web.security import csrf_protect, current_user


def include_routers(app: FastAPI) -> None:
    from chainatlas.web import routes
    from chainatlas.web.routes import public

    app.include_router(public.router, dependencies=[Depends(csrf_protect)])
    for module_info in sorted(pkgutil.iter_modules(routes.__path__), key=lambda m: m.name):
        if module_info.name == "public" or module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"chainatlas.web.routes.{module_info.name}")
        app.include_router(
            module.router, dependencies=[Depends(current_user), Depends(csrf_protect)]
        )
