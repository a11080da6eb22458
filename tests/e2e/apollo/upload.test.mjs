// A photo uploaded as a web app does it: apollo-upload-client's UploadHttpLink sends
// the GraphQL multipart request, with the header that tells the server it is no
// browser form (Apollo-Require-Preflight); then the photo is refetched by node(id:)
// and its image is served.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { gql } from "@apollo/client";
import UploadHttpLink from "apollo-upload-client/UploadHttpLink.mjs";

import { GRAPHQL_URL, newClient, recordingFetch, required } from "./client.mjs";

const CREATE_PROFILE = gql`
  mutation CreateProfile($input: CreateProfileInput!) {
    createProfile(input: $input) {
      user {
        id
        username
      }
      errors {
        code
        message
      }
    }
  }
`;
const CREATE_PHOTO = gql`
  mutation CreatePhoto($input: CreatePhotoInput!) {
    createPhoto(input: $input) {
      photo {
        id
        caption
        width
        height
      }
      errors {
        code
        message
      }
    }
  }
`;
const PHOTO_BY_ID = gql`
  query PhotoById($id: ID!) {
    node(id: $id) {
      id
      ... on Photo {
        caption
        width
        height
        image(size: THUMBNAIL)
        owner {
          username
        }
      }
    }
  }
`;

test("a multipart upload, then the photo refetched by node(id:)", async () => {
  const exchanges = [];
  const uploads = new UploadHttpLink({
    uri: GRAPHQL_URL,
    fetch: recordingFetch(exchanges),
    headers: { "Apollo-Require-Preflight": "true" },
  });
  const client = newClient({ token: required("UPLOADER_TOKEN"), terminating: uploads });

  const profile = await client.mutate({
    mutation: CREATE_PROFILE,
    variables: { input: { username: "e2e_uploader", displayName: "E2E Uploader" } },
  });
  assert.deepEqual(profile.data.createProfile.errors, []);

  const png = readFileSync(required("UPLOAD_IMAGE"));
  const image = new File([png], "upload.png", { type: "image/png" });
  const created = await client.mutate({
    mutation: CREATE_PHOTO,
    variables: { input: { image, caption: "Sent by Apollo Client" } },
  });
  assert.deepEqual(created.data.createPhoto.errors, []);
  const photo = created.data.createPhoto.photo;
  assert.equal(photo.caption, "Sent by Apollo Client");
  const upload = exchanges.at(-1);
  assert.equal(upload.method, "POST");
  assert.equal(upload.body, null, "the upload went as multipart form data, not JSON");
  assert.equal(upload.status, 200);

  // Refetched from the server, not the cache, and normalized onto the same entry.
  const refetched = await client.query({
    query: PHOTO_BY_ID,
    variables: { id: photo.id },
    fetchPolicy: "network-only",
  });
  const node = refetched.data.node;
  assert.equal(node.__typename, "Photo");
  assert.equal(node.id, photo.id);
  assert.equal(node.caption, "Sent by Apollo Client");
  assert.equal(node.owner.username, "e2e_uploader");
  assert.deepEqual([node.width, node.height], [photo.width, photo.height]);
  assert.equal(client.cache.identify(node), `Photo:${photo.id}`);

  const thumbnail = await fetch(node.image);
  assert.equal(thumbnail.status, 200);
  assert.match(thumbnail.headers.get("content-type"), /^image\//);
  assert.ok((await thumbnail.arrayBuffer()).byteLength > 0);
});

test("node(id:) answers for a photo in the feed, as a Relay client refetches it", async () => {
  const client = newClient({ token: required("VIEWER_TOKEN") });
  const [first] = JSON.parse(readFileSync(required("EXPECTED_FEED"), "utf8"));
  const { data } = await client.query({ query: PHOTO_BY_ID, variables: { id: first } });
  assert.equal(data.node.id, first);
  assert.equal(data.node.__typename, "Photo");
  assert.ok(data.node.caption.length > 0);
});
