// A dataset's cases as a Relay pagination container would read them: a @refetchable fragment
// (refetched through node(id:)) with a @connection paged forwards.
import { graphql } from "react-relay";

export const datasetCases = graphql`
  fragment DatasetCases_dataset on Dataset
  @refetchable(queryName: "DatasetCasesPaginationQuery")
  @argumentDefinitions(
    count: { type: "Int", defaultValue: 20 }
    cursor: { type: "String" }
  ) {
    name
    version
    testCases(first: $count, after: $cursor) @connection(key: "DatasetCases_testCases") {
      edges {
        node {
          __typename
          ... on CompletionTestCase { id testCaseId values output }
          ... on TraceTestCase { id testCaseId input }
        }
      }
    }
  }
`;
