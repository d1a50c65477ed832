// A test run: status and progress (live until it completes), summary, results, test cases.
import { graphql } from "./api.js";
import { CASE_FIELDS, caseList, caseView } from "./cases.js";
import { subscribe } from "./live.js";
import {
  h,
  json,
  link,
  number,
  pager,
  percent,
  progressBar,
  score,
  section,
  showError,
  statusBadge,
  when,
} from "./ui.js";

// While the live connection is down: the run is read every POLL_MS, and the connection is
// tried again after RETRY_MS, doubling after each failure up to MAX_RETRY_MS.
const POLL_MS = 2000;
const RETRY_MS = 2000;
const MAX_RETRY_MS = 30000;
// Errors that another try would only repeat.
const FINAL = new Set(["NOT_FOUND", "UNAUTHENTICATED"]);

const SUMMARY_FIELDS = `fragment SummaryFields on EvaluationSummary {
  name source kind count mean min max passCount passRate categories { category count }
}`;

const RUN_FIELDS = `fragment RunFields on TestRun {
  id name description status datasetVersion flavorName includeOutputs testCaseCount
  createdAt completedAt
  dataset { id name }
  targetEvaluations { name }
  progress { done total }
  summary {
    autoEvaluation { ...SummaryFields }
    humanEvaluation { ...SummaryFields }
    clientEvaluation { ...SummaryFields }
  }
}`;

const RUN = `query Run($projectId: ID!, $id: ID!) {
  project(id: $projectId) { name }
  testRun(id: $id) { ...RunFields }
}
${RUN_FIELDS}
${SUMMARY_FIELDS}`;

const WATCH_RUN = `subscription WatchRun($id: ID!) {
  testRun(id: $id) { ...RunFields }
}
${RUN_FIELDS}
${SUMMARY_FIELDS}`;

const RESULTS = `query Results($id: ID!, $first: Int!, $after: String) {
  testRun(id: $id) {
    results(first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { node {
        id repetition output recordedAt
        scores { source name value }
        testCase { ...CaseFields }
      } }
    }
  }
}
${CASE_FIELDS}`;

const RUN_CASES = `query RunCases($id: ID!, $first: Int!, $after: String) {
  testRun(id: $id) {
    testCases(first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { node { ...CaseFields } }
    }
  }
}
${CASE_FIELDS}`;

export async function runView(view, projectId, runId) {
  const { project, testRun } = await graphql(RUN, { projectId, id: runId });
  if (!project || !testRun) throw new Error("No such test run (or the key may not see it).");

  const header = h("div");
  const summary = h("div");
  const results = pager(
    async (first, after) => (await graphql(RESULTS, { id: runId, first, after })).testRun.results,
    resultTable,
    50,
  );
  const cases = pager(
    async (first, after) =>
      (await graphql(RUN_CASES, { id: runId, first, after })).testRun.testCases,
    caseList,
    50,
  );
  const draw = (run) => {
    header.replaceChildren(runHeader(project, projectId, run));
    summary.replaceChildren(summaryTable(run.summary));
  };
  draw(testRun);
  view.show(
    header,
    section("Summary", summary),
    section("Results", results.element),
    section("Test cases", cases.element),
  );
  await Promise.all([results.show(), cases.show()]);

  // Watch the run until it completes (or the page shows something else): the server sends
  // it whenever it changes. While the live connection is down, read the run every POLL_MS
  // and try the connection again, waiting longer after each failure.
  let run = testRun;
  let updating = Promise.resolve();
  const update = (latest) => {
    const moved = latest.progress.done !== run.progress.done || latest.status !== run.status;
    run = latest;
    draw(run);
    if (moved) updating = updating.then(() => results.reload());
  };
  let retry = RETRY_MS;
  let retryAt = 0;
  while (run.status !== "COMPLETED" && view.active()) {
    if (Date.now() >= retryAt) {
      try {
        await subscribe(WATCH_RUN, { id: runId }, (data) => update(data.testRun), view.active);
        retry = RETRY_MS;
        continue;
      } catch (error) {
        if (!view.active()) return;
        if (FINAL.has(error.code)) {
          showError(error);
          return;
        }
        retryAt = Date.now() + retry;
        retry = Math.min(retry * 2, MAX_RETRY_MS);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    if (!view.active()) return;
    try {
      update((await graphql(RUN, { projectId, id: runId })).testRun);
    } catch (error) {
      if (view.active()) showError(error);
    }
  }
  await updating;
}

function runHeader(project, projectId, run) {
  const facts = [
    ["Dataset", link(run.dataset.name, "projects", projectId, "datasets", run.dataset.id)],
    ["Dataset version", String(run.datasetVersion)],
    ["Flavor", run.flavorName || "–"],
    ["Evaluations", run.targetEvaluations.map((e) => e.name).join(", ") || "–"],
    ["Expected outputs", run.includeOutputs ? "included" : "not included"],
    ["Created", when(run.createdAt)],
    ["Completed", when(run.completedAt)],
  ];
  return h(
    "div",
    {},
    h("p", { class: "crumbs" }, link(project.name, "projects", projectId), " / test run"),
    h("h1", {}, run.name, " ", statusBadge(run.status)),
    run.description ? h("p", {}, run.description) : null,
    h("p", { class: "run-progress" }, progressBar(run.progress), " cases have a result"),
    h(
      "dl",
      { class: "facts" },
      facts.map(([term, value]) => [h("dt", {}, term), h("dd", {}, value)]),
    ),
  );
}

function summaryTable(summary) {
  const rows = [...summary.autoEvaluation, ...summary.humanEvaluation, ...summary.clientEvaluation];
  if (!rows.length) return h("p", { class: "muted" }, "No scores recorded yet.");
  const headings = [
    "Evaluation",
    "Source",
    "Kind",
    "Scored",
    "Mean",
    "Min",
    "Max",
    "Pass rate",
    "Categories",
  ];
  return h(
    "table",
    { class: "summary" },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        headings.map((t) => h("th", {}, t)),
      ),
    ),
    h(
      "tbody",
      {},
      rows.map((s) =>
        h(
          "tr",
          {},
          h("td", {}, s.name),
          h("td", {}, s.source.toLowerCase()),
          h("td", {}, s.kind.toLowerCase()),
          h("td", { class: "num" }, number(s.count)),
          h("td", { class: "num" }, score(s.mean)),
          h("td", { class: "num" }, score(s.min)),
          h("td", { class: "num" }, score(s.max)),
          h("td", { class: "num" }, percent(s.passRate)),
          h("td", {}, (s.categories || []).map((c) => `${c.category}: ${c.count}`).join(", ")),
        ),
      ),
    ),
  );
}

function resultTable(nodes, offset) {
  return h(
    "table",
    { class: "results" },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        ["#", "Test case", "Output", "Scores"].map((t) => h("th", {}, t)),
      ),
    ),
    h(
      "tbody",
      {},
      nodes.map((r, i) =>
        h(
          "tr",
          {},
          h("td", { class: "num" }, number(offset + i + 1)),
          h("td", {}, caseView(r.testCase, 200)),
          h("td", {}, h("pre", {}, json(r.output, 600))),
          h(
            "td",
            {},
            h(
              "ul",
              { class: "scores" },
              r.scores.map((s) =>
                h(
                  "li",
                  {},
                  `${s.name} = ${json(s.value, 80)}`,
                  h("span", { class: "muted small" }, ` ${s.source.toLowerCase()}`),
                ),
              ),
            ),
          ),
        ),
      ),
    ),
  );
}
