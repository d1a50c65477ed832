// A run's cases paged backwards and its results paged forwards, both refetchable.
import { graphql } from "react-relay";

export const runCases = graphql`
  fragment RunCases_testRun on TestRun
  @refetchable(queryName: "RunCasesPaginationQuery")
  @argumentDefinitions(
    count: { type: "Int", defaultValue: 20 }
    cursor: { type: "String" }
  ) {
    name
    status
    testCases(last: $count, before: $cursor) @connection(key: "RunCases_testCases") {
      edges {
        node {
          ... on CompletionTestCase { id testCaseId values }
          ... on TraceTestCase { id testCaseId input }
        }
      }
    }
  }
`;

export const runResults = graphql`
  fragment RunCases_results on TestRun
  @refetchable(queryName: "RunResultsPaginationQuery")
  @argumentDefinitions(
    count: { type: "Int", defaultValue: 20 }
    cursor: { type: "String" }
  ) {
    results(first: $count, after: $cursor) @connection(key: "RunCases_results") {
      edges {
        node {
          id
          repetition
          output
          testCase { ... on CompletionTestCase { id testCaseId } }
        }
      }
    }
  }
`;
