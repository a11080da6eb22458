"""The GraphiQL page (served only in local mode) and its Content-Security-Policy.

Every script and stylesheet comes from this origin (graphiql/assets.py), the one
start script included, so the policy needs no host and no hash: `script-src
'self'`. Styles allow 'unsafe-inline' because GraphiQL's editors set style
attributes as they lay out; its fonts are data: URLs inside its stylesheet.
Without node_modules the page says how to install the files.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from string import Template

from starlette.responses import HTMLResponse

from graphiql.assets import GraphiQLAssets

_TEMPLATE = Template(Path(__file__).with_name("page.html").read_text(encoding="utf-8"))

POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "font-src data:",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)

NOT_INSTALLED = """<!doctype html>
<html lang="en">
  <head><meta charset="utf-8" /><title>GraphiQL is not installed</title></head>
  <body>
    <h1>GraphiQL's files are not installed</h1>
    <p>The app serves GraphiQL from <code>node_modules</code>, which
    <code>npm ci</code> fills from package-lock.json (<code>make run</code> runs it).
    Run <code>npm ci</code> in the repository and reload this page.</p>
    <p>The API itself works without them: POST to this URL.</p>
  </body>
</html>
"""


def render_page(assets: GraphiQLAssets) -> str:
    def lines(template: str, urls: tuple[str, ...]) -> str:
        return "\n".join("    " + template.format(escape(url)) for url in urls)

    return _TEMPLATE.substitute(
        licences=" ".join(assets.licences),
        stylesheets=lines('<link rel="stylesheet" href="{}" />', assets.stylesheets),
        scripts=lines('<script src="{}"></script>', assets.scripts),
    )


def graphiql_response(assets: GraphiQLAssets | None) -> HTMLResponse:
    if assets is None:
        return HTMLResponse(NOT_INSTALLED, status_code=503, headers={"Cache-Control": "no-store"})
    return HTMLResponse(render_page(assets), headers={"Content-Security-Policy": POLICY})
