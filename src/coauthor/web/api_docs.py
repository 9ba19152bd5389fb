"""The API's two viewers, Swagger UI (/api/docs) and ReDoc (/api/redoc), served from npm.

Their scripts come from ``swagger-ui-dist`` and ``redoc`` in node_modules
(mounted under /static/vendor by web/app.py), and Swagger UI is started by
/static/api-docs.js rather than an inline script, so the strict CSP holds
(web/headers.py). The OpenAPI document declares the bearer scheme, so
Swagger UI's "Authorize" takes an API token.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)
OPENAPI_URL = "/api/openapi.json"
SWAGGER_URL = "/api/docs"
REDOC_URL = "/api/redoc"
DOC_PATHS = (OPENAPI_URL, SWAGGER_URL, REDOC_URL)

SWAGGER_PAGE = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Coauthor API · Swagger UI</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="/static/vendor/swagger-ui/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui" data-openapi-url="{OPENAPI_URL}"></div>
  <script src="/static/vendor/swagger-ui/swagger-ui-bundle.js"></script>
  <script src="/static/api-docs.js"></script>
</body>
</html>
"""

REDOC_PAGE = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Coauthor API · ReDoc</title>
  <link rel="icon" href="data:,">
</head>
<body>
  <redoc spec-url="{OPENAPI_URL}"></redoc>
  <script src="/static/vendor/redoc/redoc.standalone.js"></script>
</body>
</html>
"""


@router.get(SWAGGER_URL)
def swagger_ui() -> HTMLResponse:
    return HTMLResponse(SWAGGER_PAGE)


@router.get(REDOC_URL)
def redoc() -> HTMLResponse:
    return HTMLResponse(REDOC_PAGE)
