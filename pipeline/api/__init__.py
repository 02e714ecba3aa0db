"""The HTTP API: ``make_app`` assembles the routes of each concern."""

from __future__ import annotations

from aiohttp import web

from pipeline.api import openapi, ops, subscriptions, websub
from pipeline.api.base import CONFIG, SETTINGS, STORE, json_errors
from pipeline.config import Config
from pipeline.settings import Settings
from pipeline.store import Store


def make_app(settings: Settings, config: Config, store: Store) -> web.Application:
    app = web.Application(middlewares=[json_errors], client_max_size=settings.api_max_body_bytes)
    app[STORE] = store
    app[SETTINGS] = settings
    app[CONFIG] = config
    subscriptions.add_routes(app)
    openapi.add_routes(app)
    ops.add_routes(app)
    websub.add_routes(app)
    return app
