"""The OpenAPI document as a product: what a generated client needs that FastAPI does not write by itself.

Routes declare their operation ids, summaries, success content and error codes (with `problems(...)`); this module
holds those shared declarations and a final pass over FastAPI's document that
- writes a form-model-plus-file body as one flat object (openapi-python-client drops the file from `allOf`);
- marks uploads as binary (`format: binary`: FastAPI writes OpenAPI 3.1's `contentMediaType` only, which
  openapi-python-client reads as text, so a generated client sent the file as a string and got a 422);
- declares every error as `application/problem+json` with the `Problem` schema, which is what the service sends;
- says that the API key schemes are optional (they are, until keys are configured);
- shows an example of every error (its problem `type`) and of the image options' values (app.api.docs_text).

It also serves ReDoc with nothing fetched from another host (see `redoc_bundle`) and turns off Swagger UI's online
validator badge (an image from validator.swagger.io on any server but localhost).
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.docs_text import PARAMETER_EXAMPLES, problem_examples
from app.api.problems import PROBLEM_JSON
from app.schemas import Problem

ERRORS: dict[int, str] = {
    400: "bad request (e.g. an unknown paging cursor)",
    401: "missing or invalid API key",
    404: "unknown job, artifact or model",
    409: "the job is in the wrong state for this",
    410: "the job ended cancelled or failed and its files were deleted",
    413: "upload too large",
    415: "a recognised but unsupported media format",
    416: "byte range not satisfiable",
    422: "invalid option or undecodable media",
    429: "the key's rate limit, daily device-seconds or active-jobs limit is reached (RateLimit and Retry-After "
    "headers say when to come back)",
    503: "the server is at capacity (Retry-After says when to retry), busy with memory, or model weights are "
    "missing or failing their checksum",
    507: "out of device memory or out of job storage",
}
BINARY = {"type": "string", "format": "binary"}


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """Route `responses=` for these error codes, each a `Problem` (sent as application/problem+json)."""
    return {code: {"model": Problem, "description": ERRORS[code]} for code in codes}


def binary_content(*media_types: str) -> dict[str, dict[str, Any]]:
    return {media_type: {"schema": BINARY} for media_type in media_types}


REDOC_JS = "/docs-assets/redoc.standalone.js"
# The sidebar's "API docs by Redocly" link shows Redocly's logo from their CDN, unconditionally (no option hides it).
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
DOCS_PATHS = frozenset({"/docs", "/redoc", "/docs/oauth2-redirect"})
# Everything from this server, nothing from the internet: ReDoc's bundle still writes an <img> of Redocly's logo from
# their CDN into its sidebar, and this policy stops the browser from fetching it (the link text stays).
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'"
)


class DocsContentSecurityPolicy:
    """Adds `DOCS_CSP` to the Swagger UI and ReDoc pages (pure ASGI: the rest of the API is not touched)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in DOCS_PATHS:
            await self.app(scope, receive, send)
            return

        async def send_with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["Content-Security-Policy"] = DOCS_CSP
            await send(message)

        await self.app(scope, receive, send_with_policy)


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
            )
            _flatten_form_bodies(document)
            _binary_uploads(document)
            _problem_media_type(document)
            _optional_security(document)
            _parameter_examples(document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to customise the document
    app.add_middleware(DocsContentSecurityPolicy)
    app.swagger_ui_parameters = {**(app.swagger_ui_parameters or {}), "validatorUrl": None}
    _install_redoc(app)


@functools.cache
def redoc_bundle() -> bytes:
    """fastapi-offline's ReDoc bundle with the logo pointing at the favicon this server has (the CSP alone would
    only turn the request into a console error)."""
    bundle = resources.files("fastapi_offline").joinpath("static/redoc.standalone.js").read_text(encoding="utf-8")
    return bundle.replace(REDOC_LOGO, "/static-offline-docs/favicon.png").encode()


def _install_redoc(app: FastAPI) -> None:
    """Replaces fastapi-offline's /redoc page (same page, the bundle above)."""
    app.router.routes[:] = [r for r in app.router.routes if getattr(r, "path", None) != "/redoc"]

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{REDOC_JS}",
            redoc_favicon_url=f"{root}/static-offline-docs/favicon.png",
            with_google_fonts=False,
        )

    @app.get(REDOC_JS, include_in_schema=False)
    async def redoc_js() -> Response:
        return Response(
            redoc_bundle(), media_type="text/javascript", headers={"Cache-Control": "public, max-age=86400"}
        )


def _parameter_examples(document: dict[str, Any]) -> None:
    """Options declared by models outside app.api (the image's query options) get their example here."""
    for operations in document["paths"].values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                known = "example" in parameter or "examples" in parameter or "examples" in parameter["schema"]
                if not known and parameter["name"] in PARAMETER_EXAMPLES:
                    parameter["example"] = PARAMETER_EXAMPLES[parameter["name"]]


def _flatten_form_bodies(document: dict[str, Any]) -> None:
    """A route that takes a form model plus a file gets `Body_x = allOf[Model] + {file}` from FastAPI, which
    openapi-python-client reads as the model alone (the file is lost). Write the same schema as one flat object."""
    schemas = document.get("components", {}).get("schemas", {})
    for name, schema in schemas.items():
        if not name.startswith("Body_") or "allOf" not in schema:
            continue
        properties: dict[str, Any] = {}
        required: list[str] = []
        for part in schema.pop("allOf"):
            base = schemas[part["$ref"].rsplit("/", 1)[1]] if "$ref" in part else part
            properties.update(base.get("properties", {}))
            required += base.get("required", [])
        properties.update(schema.get("properties", {}))
        schema["properties"] = properties
        schema["required"] = list(dict.fromkeys(required + schema.get("required", [])))


def _binary_uploads(document: dict[str, Any]) -> None:
    for schema in document.get("components", {}).get("schemas", {}).values():
        for prop in schema.get("properties", {}).values():
            for node in (prop, prop.get("items", {})):
                if node.get("contentMediaType") == "application/octet-stream":
                    node["format"] = "binary"


def _optional_security(document: dict[str, Any]) -> None:
    """API keys are off unless ENHANCE_API_KEYS is set: `{}` among an operation's requirements says that no key
    is also accepted, so clients may call without one (a keyed server still answers 401)."""
    for operations in document["paths"].values():
        for operation in operations.values():
            if operation.get("security") and {} not in operation["security"]:
                operation["security"].append({})


def _problem_media_type(document: dict[str, Any]) -> None:
    for path, operations in document["paths"].items():
        for operation in operations.values():
            for code, response in operation.get("responses", {}).items():
                # FastAPI files error models under application/json, or under the route's own media type (an
                # SSE route's 404 would claim to be an event stream).
                references = [body.get("schema", {}).get("$ref", "") for body in response.get("content", {}).values()]
                if code[0] in "45" and any(r.endswith(("/Problem", "/HTTPValidationError")) for r in references):
                    response["content"] = {
                        PROBLEM_JSON: {
                            "schema": {"$ref": "#/components/schemas/Problem"},
                            "examples": problem_examples(int(code), path),
                        }
                    }
                    if any(r.endswith("/HTTPValidationError") for r in references):
                        response["description"] = ERRORS[422]
    schemas = document.get("components", {}).get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):  # FastAPI's 422 body, which this service never sends
        schemas.pop(unused, None)
