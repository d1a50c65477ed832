// Apollo Client with its persisted-query link (Apollo's automatic persisted queries): the
// first time, the hash alone is not found and the link sends hash and text; afterwards the
// hash alone is enough, also for another server on the same database.
// Usage: node apollo-persisted-queries.mjs GRAPHQL_URL OTHER_GRAPHQL_URL API_KEY PROJECT_ID DATASET
import { createHash } from "node:crypto";

import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";

const [url, otherUrl, key, projectId, datasetName] = process.argv.slice(2);

const requests = [];

async function recordingFetch(input, init) {
  const response = await fetch(input, init);
  const sent = init.body
    ? JSON.parse(init.body)
    : Object.fromEntries(new URL(input).searchParams.entries());
  const extensions = typeof sent.extensions === "string" ? JSON.parse(sent.extensions) : sent.extensions;
  const body = await response.clone().json();
  requests.push({
    server: input.toString().startsWith(url) ? "first" : "other",
    method: init.method,
    status: response.status,
    withText: typeof sent.query === "string",
    hash: extensions?.persistedQuery?.sha256Hash ?? null,
    codes: (body.errors ?? []).map((e) => e.extensions?.code),
  });
  return response;
}

function client(uri) {
  const sha256 = (text) => createHash("sha256").update(text).digest("hex");
  return new ApolloClient({
    link: new PersistedQueryLink({ sha256, useGETForHashedQueries: true }).concat(
      new HttpLink({ uri, headers: { authorization: `Bearer ${key}` }, fetch: recordingFetch }),
    ),
    cache: new InMemoryCache(),
  });
}

const DATASETS = gql`
  query ProjectDatasets($id: ID!) {
    project(id: $id) {
      name
      datasets(first: 10) { totalCount edges { node { id name version } } }
    }
  }
`;
const CREATE = gql`
  mutation CreateTestRun($input: CreateTestRunInput!) {
    createTestRun(input: $input) { testRun { id name } }
  }
`;

const first = client(url);
const results = [];
for (let i = 0; i < 2; i++) {
  const { data } = await first.query({
    query: DATASETS,
    variables: { id: projectId },
    fetchPolicy: "network-only",
  });
  results.push(data.project.datasets.totalCount);
}
for (let i = 0; i < 2; i++) {
  const { data } = await first.mutate({
    mutation: CREATE,
    variables: { input: { projectId, datasetName } },
  });
  results.push(data.createTestRun.testRun.id);
}
const { data } = await client(otherUrl).query({ query: DATASETS, variables: { id: projectId } });
results.push(data.project.datasets.totalCount);

console.log(JSON.stringify({ requests, results }));
