// The home feed walked as an infinite scroll: relayStylePagination merges every
// page fetchMore brings, and the merged list is the demo feed, once each, newest first.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { gql } from "@apollo/client";

import { newClient, required, walkToTheEnd } from "./client.mjs";

const FEED = gql`
  query Feed($first: Int!, $after: String) {
    viewer {
      feed(first: $first, after: $after) {
        edges {
          cursor
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
  }
`;
const PAGE = 7;

test("the feed walked with fetchMore is every item once, newest first", async () => {
  const expected = JSON.parse(readFileSync(required("EXPECTED_FEED"), "utf8"));
  const exchanges = [];
  const client = newClient({ token: required("VIEWER_TOKEN"), exchanges });

  const { edges, pages } = await walkToTheEnd(client, {
    query: FEED,
    variables: { first: PAGE },
    connectionOf: (data) => data.viewer.feed,
  });

  const ids = edges.map((edge) => edge.node.id);
  assert.equal(new Set(ids).size, ids.length, "an item came twice");
  assert.deepEqual([...ids].sort(), [...expected].sort());
  const times = edges.map((edge) => Date.parse(edge.node.createdAt));
  assert.ok(times.every((time, i) => i === 0 || time <= times[i - 1]), "not newest first");
  assert.equal(pages, Math.ceil(expected.length / PAGE));
  assert.equal(exchanges.length, pages, "one request per page");
  assert.ok(exchanges.every((exchange) => exchange.status === 200));
});
