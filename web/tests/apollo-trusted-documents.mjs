// Apollo Client with its persisted-query link running a document registered in advance
// (`testruns graphql register`) on a server that runs trusted documents only: the hash the
// link computes is the one the command printed, so the hash alone is enough at once.
// Usage: node apollo-trusted-documents.mjs GRAPHQL_URL API_KEY FILE.graphql VARIABLES_JSON
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";

const [url, key, file, variables] = process.argv.slice(2);

const requests = [];
async function recordingFetch(input, init) {
  const response = await fetch(input, init);
  const params = new URL(input).searchParams;
  requests.push({
    method: init.method,
    status: response.status,
    withText: params.has("query"),
    hash: JSON.parse(params.get("extensions") ?? "{}").persistedQuery?.sha256Hash ?? null,
  });
  return response;
}

const sha256 = (text) => createHash("sha256").update(text).digest("hex");
const client = new ApolloClient({
  link: new PersistedQueryLink({ sha256, useGETForHashedQueries: true }).concat(
    new HttpLink({ uri: url, headers: { authorization: `Bearer ${key}` }, fetch: recordingFetch }),
  ),
  cache: new InMemoryCache(),
});

const { data } = await client.query({
  query: gql(readFileSync(file, "utf8")),
  variables: JSON.parse(variables),
});
console.log(JSON.stringify({ requests, data }));
