// Automatic persisted queries over GET, Apollo's protocol: the first GET carries
// only the document's hash, the server answers PersistedQueryNotFound, the link
// sends the document once by POST, and from then on every page goes as a GET that
// carries the hash alone, for any client that sends the same document.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";

import { gql } from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";

import { newClient, walkToTheEnd } from "./client.mjs";

const PHOTOS = gql`
  query BobsPhotos($first: Int!, $after: String) {
    user(username: "bob") {
      id
      photos(first: $first, after: $after) {
        edges {
          cursor
          node {
            id
            caption
          }
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
  }
`;
const BOBS_PHOTOS = 5; // demo.py
const PAGE = 2;

function persistedClient(exchanges) {
  const persisted = new PersistedQueryLink({
    sha256: (text) => createHash("sha256").update(text).digest("hex"),
    useGETForHashedQueries: true,
  });
  return newClient({ links: [persisted], exchanges });
}

function sent(exchange) {
  const url = new URL(exchange.url);
  return {
    method: exchange.method,
    query: url.searchParams.get("query") ?? JSON.parse(exchange.body ?? "{}").query ?? null,
    hash: JSON.parse(url.searchParams.get("extensions") ?? exchange.body ?? "{}").extensions
      ?.persistedQuery?.sha256Hash,
  };
}

function walk(client) {
  return walkToTheEnd(client, {
    query: PHOTOS,
    variables: { first: PAGE },
    connectionOf: (data) => data.user.photos,
  });
}

test("queries go over GET with the hash alone once the server has the document", async () => {
  const first = [];
  const { edges } = await walk(persistedClient(first));
  assert.equal(edges.length, BOBS_PHOTOS);
  assert.equal(new Set(edges.map((edge) => edge.node.id)).size, BOBS_PHOTOS);

  // The server did not know the document: one round trip to teach it, by POST.
  const [unknown, taught, ...pages] = first;
  assert.equal(unknown.method, "GET");
  assert.equal(sent(unknown).query, null);
  assert.match(unknown.answer, /PERSISTED_QUERY_NOT_FOUND|PersistedQueryNotFound/);
  assert.equal(taught.method, "POST");
  assert.ok(sent(taught).query.includes("BobsPhotos"));
  assert.equal(taught.status, 200);
  for (const page of pages) {
    assert.deepEqual([page.method, sent(page).query, page.status], ["GET", null, 200]);
  }

  // Another client with the same document never sends it.
  const second = [];
  const again = await walk(persistedClient(second));
  assert.deepEqual(
    again.edges.map((edge) => edge.node.id),
    edges.map((edge) => edge.node.id),
  );
  assert.equal(second.length, Math.ceil(BOBS_PHOTOS / PAGE));
  for (const exchange of second) {
    assert.deepEqual([exchange.method, sent(exchange).query, exchange.status], ["GET", null, 200]);
    assert.equal(sent(exchange).hash, sent(first[0]).hash);
  }
});
