// urql with Graphcache at its defaults (it normalises objects by __typename + id): the same
// scenario as apollo-cache-identity.mjs. Prints what each read showed.
//
// usage: node urql-cache-identity.mjs URL API_KEY RUN_ID DATASET_ID
import { Client, fetchExchange, gql } from "@urql/core";
import { cacheExchange } from "@urql/exchange-graphcache";

const [url, key, runId, datasetId] = process.argv.slice(2);

const client = new Client({
  url: `${url}/graphql`,
  exchanges: [cacheExchange({}), fetchExchange],
  preferGetMethod: false, // queries over POST: this scenario is about the cache, not transport
  fetchOptions: { headers: { Authorization: `Bearer ${key}` } },
});

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

async function run(operation) {
  const result = await operation.toPromise();
  if (result.error) throw result.error;
  return result.data;
}

const nodes = (connection) => connection.edges.map((edge) => edge.node);

const before = nodes((await run(client.query(RUN_CASES, { id: runId }))).testRun.testCases);
const edited = await run(
  client.mutation(EDIT, {
    input: {
      datasetId,
      testCaseId: before[0].testCaseId,
      completion: { values: { question: "edited in v2" }, output: "new answer" },
    },
  }),
);
const dataset = (await run(client.query(DATASET_CASES, { id: datasetId }))).dataset;
const cached = client.readQuery(RUN_CASES, { id: runId });
const again = await run(client.query(RUN_CASES, { id: runId })); // cache-first

console.log(
  JSON.stringify({
    runBefore: before,
    editedVersion: edited.updateTestCase.version,
    dataset: { version: dataset.version, cases: nodes(dataset.testCases) },
    runFromCache: nodes(cached.data.testRun.testCases),
    runQueriedAgain: nodes(again.testRun.testCases),
  }),
);
