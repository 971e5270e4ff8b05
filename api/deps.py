"""Request dependencies: the app's settings and database engine, as typed aliases."""

from __future__ import annotations

import threading
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from sqlalchemy import Engine

from rural.db import engine_from_settings
from rural.settings import Settings

_engine_lock = threading.Lock()


def app_settings(app: FastAPI) -> Settings:
    settings: Settings = app.state.settings
    return settings


def app_engine(app: FastAPI) -> Engine:
    """The app's engine, made on first use (or by the lifespan) and kept for the app's life."""
    engine: Engine | None = getattr(app.state, "engine", None)
    if engine is None:
        with _engine_lock:
            engine = getattr(app.state, "engine", None)
            if engine is None:
                engine = engine_from_settings(app_settings(app))
                app.state.engine = engine
    return engine


def get_settings(request: Request) -> Settings:
    return app_settings(request.app)


def get_engine(request: Request) -> Engine:
    return app_engine(request.app)


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
