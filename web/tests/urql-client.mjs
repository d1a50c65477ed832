// @urql/core's client at its default settings (queries over GET while the URL is short
// enough, mutations over POST) querying and mutating the API.
// Usage: node urql-client.mjs GRAPHQL_URL API_KEY PROJECT_ID DATASET_NAME
import { cacheExchange, createClient, fetchExchange, gql } from "@urql/core";

const [url, key, projectId, datasetName] = process.argv.slice(2);

const requests = [];
const client = createClient({
  url,
  exchanges: [cacheExchange, fetchExchange],
  fetchOptions: { headers: { authorization: `Bearer ${key}` } },
  fetch: async (input, init) => {
    const response = await fetch(input, init);
    requests.push({
      method: init.method,
      status: response.status,
      contentType: response.headers.get("content-type"),
    });
    return response;
  },
});

const DATASETS = gql`
  query ProjectDatasets($id: ID!) {
    project(id: $id) {
      name
      datasets(first: 10) { totalCount edges { node { name version } } }
    }
  }
`;
const CREATE = gql`
  mutation CreateTestRun($input: CreateTestRunInput!) {
    createTestRun(input: $input) { testRun { id name testCases(first: 10) { totalCount } } }
  }
`;
const INVALID = gql`
  query Invalid { noSuchField }
`;

const summary = (result) => ({
  data: result.data ?? null,
  errors: result.error?.graphQLErrors.map((e) => e.extensions?.code ?? e.message) ?? [],
  networkError: result.error?.networkError?.message ?? null,
});

const query = await client.query(DATASETS, { id: projectId }).toPromise();
const mutation = await client
  .mutation(CREATE, { input: { projectId, datasetName } })
  .toPromise();
const invalid = await client.query(INVALID, {}).toPromise();

console.log(
  JSON.stringify({
    requests,
    query: summary(query),
    mutation: summary(mutation),
    invalid: summary(invalid),
  }),
);
