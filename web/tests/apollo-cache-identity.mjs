// Apollo Client with InMemoryCache at its defaults (it normalises objects by __typename + id):
// read a run pinned at v1, edit the case to make v2 and read the dataset through the same
// client, then read the run's cases back from the cache. Prints what each read showed.
//
// usage: node apollo-cache-identity.mjs URL API_KEY RUN_ID DATASET_ID
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client";

const [url, key, runId, datasetId] = process.argv.slice(2);

const client = new ApolloClient({
  link: new HttpLink({ uri: `${url}/graphql`, headers: { Authorization: `Bearer ${key}` } }),
  cache: new InMemoryCache(),
});

// Inline fragments on the concrete type: InMemoryCache matches them without possibleTypes.
const CASE = `__typename ... on CompletionTestCase { id testCaseId values output }`;
const RUN_CASES = gql`
  query RunCases($id: ID!) {
    testRun(id: $id) { id testCases(first: 10) { edges { node { ${CASE} } } } }
  }
`;
const DATASET_CASES = gql`
  query DatasetCases($id: ID!) {
    dataset(id: $id) { id version testCases(first: 10) { edges { node { ${CASE} } } } }
  }
`;
const EDIT = gql`
  mutation Edit($input: UpdateTestCaseInput!) {
    updateTestCase(input: $input) { version testCase { ${CASE} } }
  }
`;

const nodes = (connection) => connection.edges.map((edge) => edge.node);

const before = nodes((await client.query({ query: RUN_CASES, variables: { id: runId } })).data.testRun.testCases);
const edited = await client.mutate({
  mutation: EDIT,
  variables: {
    input: {
      datasetId,
      testCaseId: before[0].testCaseId,
      completion: { values: { question: "edited in v2" }, output: "new answer" },
    },
  },
});
const dataset = (await client.query({ query: DATASET_CASES, variables: { id: datasetId } })).data.dataset;
const cached = client.readQuery({ query: RUN_CASES, variables: { id: runId } });
const again = await client.query({ query: RUN_CASES, variables: { id: runId } }); // cache-first

console.log(
  JSON.stringify({
    runBefore: before,
    editedVersion: edited.data.updateTestCase.version,
    dataset: { version: dataset.version, cases: nodes(dataset.testCases) },
    runFromCache: nodes(cached.testRun.testCases),
    runQueriedAgain: nodes(again.data.testRun.testCases),
  }),
);
