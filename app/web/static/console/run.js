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
  execution {
    status total completed errored pending cancelled evaluationErrors repetitions concurrency
    errors { testCaseId repetition error evaluationErrors }
  }
  summary {
    autoEvaluation { ...SummaryFields }
    humanEvaluation { ...SummaryFields }
    clientEvaluation { ...SummaryFields }
    usage {
      count latencyMeanMs latencyP50Ms latencyP95Ms promptTokens completionTokens totalTokens cost
    }
  }
}`;

const CANCEL_RUN = `mutation CancelTestRun($input: CancelTestRunInput!) {
  cancelTestRun(input: $input) { testRun { ...RunFields } }
}
${RUN_FIELDS}
${SUMMARY_FIELDS}`;

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

  let run = testRun;
  let updating = Promise.resolve();
  const header = h("div");
  const execution = h("div");
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
  const cancel = async () => {
    try {
      update((await graphql(CANCEL_RUN, { input: { testRunId: runId } })).cancelTestRun.testRun);
    } catch (error) {
      showError(error);
    }
  };
  const draw = (run) => {
    header.replaceChildren(runHeader(project, projectId, run));
    execution.replaceChildren(
      run.execution ? section("Execution", executionView(run.execution, cancel)) : "",
    );
    summary.replaceChildren(
      ...[summaryTable(run.summary), usageView(run.summary.usage)].filter(Boolean),
    );
  };
  draw(testRun);
  view.show(
    header,
    execution,
    section("Summary", summary),
    section("Results", results.element),
    section("Test cases", cases.element),
  );
  await Promise.all([results.show(), cases.show()]);

  // Watch the run until it completes (or the page shows something else): the server sends
  // it whenever it changes. While the live connection is down, read the run every POLL_MS
  // and try the connection again, waiting longer after each failure.
  function update(latest) {
    const moved = latest.progress.done !== run.progress.done || latest.status !== run.status;
    run = latest;
    draw(run);
    if (moved) updating = updating.then(() => results.reload());
  }
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

// A run the server executes: its cases by state, a Cancel button while it runs, the errors.
function executionView(execution, cancel) {
  const e = execution;
  const finished = e.completed + e.errored + e.cancelled;
  const counts = [
    ["Completed", e.completed],
    ["Errored", e.errored],
    ["Pending", e.pending],
    ["Cancelled", e.cancelled],
    ["Judge errors", e.evaluationErrors],
  ];
  const button =
    e.status === "RUNNING"
      ? h(
          "button",
          {
            type: "button",
            class: "cancel",
            onclick: (event) => {
              event.target.disabled = true;
              cancel();
            },
          },
          "Cancel run",
        )
      : null;
  return h(
    "div",
    { class: "execution" },
    h(
      "p",
      { class: "run-progress" },
      statusBadge(e.status),
      " ",
      progressBar({ done: finished, total: e.total }),
      ` cases run (${e.repetitions}× each, ${e.concurrency} at once) `,
      button,
    ),
    h(
      "dl",
      { class: "facts counts" },
      counts.map(([term, value]) => [
        h("dt", {}, term),
        h("dd", { class: `count-${term.toLowerCase().replace(" ", "-")}` }, number(value)),
      ]),
    ),
    e.errors.length
      ? h(
          "table",
          { class: "errors" },
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              ["Test case", "Repetition", "Error"].map((t) => h("th", {}, t)),
            ),
          ),
          h(
            "tbody",
            {},
            e.errors.map((x) =>
              h(
                "tr",
                {},
                h("td", { class: "small" }, x.testCaseId),
                h("td", { class: "num" }, number(x.repetition)),
                h("td", {}, x.error || json(x.evaluationErrors, 300)),
              ),
            ),
          ),
        )
      : null,
  );
}

const ms = (x) => (x === null || x === undefined ? "–" : `${number(Math.round(x))} ms`);

function usageView(usage) {
  if (!usage || !usage.count) return null;
  const facts = [
    ["Calls measured", number(usage.count)],
    [
      "Latency",
      `mean ${ms(usage.latencyMeanMs)} · p50 ${ms(usage.latencyP50Ms)} · ` +
        `p95 ${ms(usage.latencyP95Ms)}`,
    ],
    [
      "Tokens",
      `${number(usage.totalTokens)} (${number(usage.promptTokens)} prompt, ` +
        `${number(usage.completionTokens)} completion)`,
    ],
    ["Cost", usage.cost === null ? "–" : Number(usage.cost.toPrecision(4)).toString()],
  ];
  return h(
    "dl",
    { class: "facts usage" },
    facts.map(([term, value]) => [h("dt", {}, term), h("dd", {}, value)]),
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
