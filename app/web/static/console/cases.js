// Test cases are a union: a completion case (input variables, expected text) or a trace case
// (any JSON in and out). The console asks for the fields of each and draws them differently.
import { h, json } from "./ui.js";

// Both members have an `output` of different types (String, JSON): aliased apart.
export const CASE_FIELDS = `
  fragment CaseFields on TestCase {
    __typename
    ... on CompletionTestCase {
      id testCaseId values expectedText: output metadata
      history { role content { text } }
    }
    ... on TraceTestCase { id testCaseId input expectedJson: output customMetadata }
  }`;

function field(label, value, limit) {
  if (value === null || value === undefined) return null;
  return h(
    "div",
    { class: "field" },
    h("span", { class: "label" }, label),
    h("pre", {}, json(value, limit)),
  );
}

function variables(values) {
  return h(
    "dl",
    { class: "variables" },
    Object.entries(values || {}).map(([name, value]) => [
      h("dt", {}, name),
      h("dd", {}, json(value, 400)),
    ]),
  );
}

export function caseView(testCase, limit = 600) {
  if (testCase.__typename === "CompletionTestCase") {
    const history = testCase.history || [];
    return h(
      "div",
      { class: "case completion", "data-case-id": testCase.testCaseId },
      h("span", { class: "badge kind" }, "completion"),
      variables(testCase.values),
      history.length
        ? field(
            `History (${history.length})`,
            history.map((m) => `${m.role}: ${m.content.map((c) => c.text).join("")}`).join("\n"),
            limit,
          )
        : null,
      field("Expected output", testCase.expectedText, limit),
      field("Metadata", testCase.metadata, limit),
    );
  }
  return h(
    "div",
    { class: "case trace", "data-case-id": testCase.testCaseId },
    h("span", { class: "badge kind" }, "trace"),
    field("Input", testCase.input, limit),
    field("Expected output", testCase.expectedJson, limit),
    field("Metadata", testCase.customMetadata, limit),
  );
}

export function caseList(nodes, offset) {
  return h(
    "ol",
    { class: "cases", start: offset + 1 },
    nodes.map((node) => h("li", {}, caseView(node))),
  );
}
