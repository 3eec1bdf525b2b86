"""Route modules, one per page family; each exports `router`. Every router except
`public` requires an authenticated user and checks CSRF on unsafe methods."""

from __future__ import annotations

import importlib

from fastapi import Depends, FastAPI

from chainatlas.web.security import csrf_protect, current_user

# page families in navigation order; a module missing here is not served
PROTECTED = ("home", "admin")


def include_routers(app: FastAPI) -> None:
    from chainatlas.web.routes import public

    app.include_router(public.router, dependencies=[Depends(csrf_protect)])
    for name in PROTECTED:
        module = importlib.import_module(f"chainatlas.web.routes.{name}")
        app.include_router(
            module.router, dependencies=[Depends(current_user), Depends(csrf_protect)]
        )
