"""The OpenAPI 3.0 document of the subscription API, served at ``/api/openapi.json``.

Request bodies come from the pydantic models themselves, so the document cannot drift from
what the API accepts.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from pipeline import __version__
from pipeline.core.subscriptions import SubscriptionSpec

_ERROR = {
    "description": "error",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}
_JSON_OBJECT = {"application/json": {"schema": {"type": "object"}}}
_SUB_ID = {
    "name": "sub_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^[0-9a-f]{16}$"},
}
_AUTH = [{"bearer": []}]


def _errors(*codes: int) -> dict[str, Any]:
    return {str(code): _ERROR for code in codes}


def document() -> dict[str, Any]:
    schema = SubscriptionSpec.model_json_schema(ref_template="#/components/schemas/{model}")
    components = schema.pop("$defs", {})
    components["SubscriptionSpec"] = schema
    components["Error"] = {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"type": "string"}},
    }
    body = {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/SubscriptionSpec"}}
        },
    }
    ok = {"description": "ok", "content": _JSON_OBJECT}
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "newsmon",
            "version": __version__,
            "description": "Topic subscriptions and their alerts.",
        },
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "paths": {
            "/healthz": {"get": {"responses": {"200": ok, "503": ok}}},
            "/api/topics": {"get": {"responses": {"200": ok}}},
            "/api/subscriptions": {
                "get": {"security": _AUTH, "responses": {"200": ok, **_errors(401)}},
                "post": {
                    "security": _AUTH,
                    "requestBody": body,
                    "responses": {"201": ok, **_errors(400, 401, 413, 422)},
                },
            },
            "/api/subscriptions/{sub_id}": {
                "parameters": [_SUB_ID],
                "get": {"security": _AUTH, "responses": {"200": ok, **_errors(401, 403, 404)}},
                "put": {
                    "security": _AUTH,
                    "requestBody": body,
                    "responses": {"200": ok, **_errors(400, 401, 403, 404, 413, 422)},
                },
                "patch": {
                    "security": _AUTH,
                    "requestBody": {"required": True, "content": _JSON_OBJECT},
                    "responses": {"200": ok, **_errors(400, 401, 403, 404, 413, 422)},
                },
                "delete": {"security": _AUTH, "responses": {"200": ok, **_errors(401, 403, 404)}},
            },
            "/api/subscriptions/{sub_id}/alerts": {
                "parameters": [_SUB_ID],
                "get": {
                    "security": _AUTH,
                    "parameters": [
                        {"name": "after", "in": "query", "schema": {"type": "string"}},
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 1000},
                        },
                    ],
                    "responses": {"200": ok, **_errors(400, 401, 403, 404)},
                },
            },
            "/api/subscriptions/{sub_id}/deliveries": {
                "parameters": [_SUB_ID],
                "get": {
                    "security": _AUTH,
                    "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer"}}],
                    "responses": {"200": ok, **_errors(400, 401, 403, 404)},
                },
            },
            "/api/stories/{story_id}": {
                "parameters": [
                    {
                        "name": "story_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "pattern": "^[0-9a-f]{16}$"},
                    }
                ],
                "get": {
                    "security": _AUTH,
                    "description": "A story's lineage.",
                    "responses": {"200": ok, **_errors(400, 401, 404)},
                },
            },
            "/api/subscriptions/{sub_id}/stream": {
                "parameters": [_SUB_ID],
                "get": {
                    "security": _AUTH,
                    "description": "Server-Sent Events of new alerts.",
                    "responses": {
                        "200": {"description": "text/event-stream"},
                        **_errors(400, 401, 403, 404),
                    },
                },
            },
        },
    }


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(document())


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/openapi.json", openapi)
