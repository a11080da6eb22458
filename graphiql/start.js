// Starts GraphiQL, with the explorer, against this server's /graphql (graphiql/page.html
// loads React, GraphiQL and the explorer first). Adapted from strawberry's page (MIT).
"use strict";

const EXAMPLE_QUERY = `# Photo Timeline, local mode.
#
# Sign in: \`make token USER=demo-alice\`, then in Headers below:
#   {"Authorization": "Bearer <the token>"}
#
# Run: Ctrl-Enter (or the play button). Build a query by clicking: the explorer
# (the compass icon on the left).

{
  photos(first: 5) {
    edges {
      node {
        id
        caption
        createdAt
      }
    }
    pageInfo {
      hasNextPage
      endCursor
    }
  }
}
`;

// ?q=...&variables=... shares a query as a link. Not `query`: a GET with `query` is
// a GraphQL request, answered with JSON (graphql_route.should_render_graphql_ide).
const parameters = Object.fromEntries(new URLSearchParams(window.location.search));

function updateURL(changes) {
  Object.assign(parameters, changes);
  const search = new URLSearchParams(
    Object.entries(parameters).filter(([, value]) => Boolean(value)),
  );
  history.replaceState(null, "", "?" + search.toString());
}

const fetcher = GraphiQL.createFetcher({ url: window.location.pathname });
const explorer = GraphiQLPluginExplorer.explorerPlugin();

function GraphiQLWithExplorer() {
  const [query, setQuery] = React.useState(parameters.q || EXAMPLE_QUERY);
  const [variables, setVariables] = React.useState(parameters.variables);

  return React.createElement(GraphiQL, {
    fetcher,
    plugins: [explorer],
    query,
    variables,
    onEditQuery(newQuery) {
      setQuery(newQuery);
      updateURL({ q: newQuery });
    },
    onEditVariables(newVariables) {
      setVariables(newVariables);
      updateURL({ variables: newVariables });
    },
    defaultEditorToolsVisibility: true,
    inputValueDeprecation: true,
    isHeadersEditorEnabled: true,
    // Headers (the bearer token) stay in this browser's localStorage, never in the URL.
    shouldPersistHeaders: true,
  });
}

ReactDOM.createRoot(document.getElementById("graphiql")).render(
  React.createElement(GraphiQLWithExplorer),
);
