// Apollo Client as a web app would set it up, pointed at the server that
// tests/e2e/test_apollo_client.py started (its URL and tokens come in the environment).
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from "@apollo/client";
import { relayStylePagination } from "@apollo/client/utilities";

export const GRAPHQL_URL = required("GRAPHQL_URL");

export function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run these tests through pytest`);
  return value;
}

// Every connection merges its pages; the viewer's fields live on User today and on
// Viewer once that type exists, so both get the policy.
const connections = {
  feed: relayStylePagination(),
  photos: relayStylePagination(),
  notifications: relayStylePagination(),
};
export function newCache() {
  return new InMemoryCache({
    typePolicies: {
      Query: { fields: { viewer: { merge: true }, photos: relayStylePagination() } },
      User: { fields: connections },
      Viewer: { fields: connections },
    },
  });
}

// fetch, recording what went over the wire: method, URL, request body, status, answer.
export function recordingFetch(exchanges) {
  return async (url, init = {}) => {
    const response = await fetch(url, init);
    const text = await response.clone().text();
    exchanges.push({
      method: init.method ?? "GET",
      url: String(url),
      body: typeof init.body === "string" ? init.body : null,
      status: response.status,
      headers: response.headers,
      answer: text,
    });
    return response;
  };
}

export function bearer(token) {
  return new ApolloLink((operation, forward) => {
    operation.setContext(({ headers = {} }) => ({
      headers: { ...headers, authorization: `Bearer ${token}` },
    }));
    return forward(operation);
  });
}

export function newClient({ token, links = [], terminating, exchanges = [] }) {
  const http = terminating ?? new HttpLink({ uri: GRAPHQL_URL, fetch: recordingFetch(exchanges) });
  return new ApolloClient({
    link: ApolloLink.from([...(token ? [bearer(token)] : []), ...links, http]),
    cache: newCache(),
  });
}

// Walks a connection to its end with fetchMore, as an infinite scroll does, and
// returns the merged edges (read back from the cache, where relayStylePagination
// merged the pages) and how many pages it took.
export async function walkToTheEnd(client, { query, variables, connectionOf }) {
  const observable = client.watchQuery({ query, variables, fetchPolicy: "cache-first" });
  const subscription = observable.subscribe({});
  try {
    let connection = connectionOf((await firstLoaded(observable)).data);
    let pages = 1;
    while (connection.pageInfo.hasNextPage) {
      if (!connection.pageInfo.endCursor) throw new Error("hasNextPage without an endCursor");
      if (pages > 100) throw new Error("the walk does not end");
      await observable.fetchMore({ variables: { after: connection.pageInfo.endCursor } });
      connection = connectionOf(client.readQuery({ query, variables }));
      pages += 1;
    }
    return { edges: connection.edges, pages };
  } finally {
    subscription.unsubscribe();
  }
}

function firstLoaded(observable) {
  return new Promise((resolve, reject) => {
    const subscription = observable.subscribe({
      next(result) {
        if (result.loading) return;
        queueMicrotask(() => subscription.unsubscribe());
        if (result.error) reject(result.error);
        else resolve(result);
      },
      error: reject,
    });
  });
}
