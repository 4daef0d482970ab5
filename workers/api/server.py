"""The uvicorn factory (`vodfleet api`): one application per server process, over the fleet of the settings."""

from __future__ import annotations

from fastapi import FastAPI

from workers.api.app import create_app
from workers.api.services import open_services
from workers.api.settings import ApiSettings
from workers.settings import Settings


def application() -> FastAPI:
    api = ApiSettings()
    return create_app(open_services(Settings(), api), origins=api.origins())
