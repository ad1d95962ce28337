"""The gateway's `/docs` page, served with its own Swagger UI assets (no CDN).

FastAPI's default page loads Swagger UI from a CDN, which leaves it blank on a machine
without internet access; the `swagger-ui-bundle` package ships the same assets, served here
under `/docs/assets/`.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

__all__ = ["ASSETS", "mount_api_docs"]

ASSETS = "/docs/assets"


def mount_api_docs(app: FastAPI) -> None:
    """Serve `/docs` (Swagger UI over `/openapi.json`) and its assets from the gateway."""
    app.mount(ASSETS, StaticFiles(directory=swagger_ui_path), name="swagger-ui")

    @app.get("/docs", include_in_schema=False)
    async def api_docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{app.title} API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
        )
