"""GraphiQL for local development, served whole by the app: no file from the internet.

`assets` serves the pinned files that `npm ci` installs (package.json and
package-lock.json at the repository's root) and our start script; `page` writes
the HTML that names them and its Content-Security-Policy. Only local mode mounts
either (settings.graphiql).
"""

from graphiql.assets import ASSETS_PATH, GraphiQLAssets
from graphiql.page import POLICY, graphiql_response

__all__ = ["ASSETS_PATH", "POLICY", "GraphiQLAssets", "graphiql_response"]
