// Two runs of one dataset, compared: each evaluation's mean change with its 95% confidence
// interval, and the cases that got worse, in red, with both outputs.
import { graphql } from "./api.js";
import { CASE_FIELDS, caseView } from "./cases.js";
import { h, json, link, number, score, section, signed } from "./ui.js";

const SHOWN_REGRESSIONS = 50;

const COMPARE = `query Compare($projectId: ID!, $base: ID!, $candidate: ID!, $first: Int!) {
  project(id: $projectId) { name }
  compareTestRuns(baseId: $base, candidateId: $candidate) {
    base { id name }
    candidate { id name }
    sharedCaseCount regressionCount improvementCount
    evaluations {
      name source kind pairs baseMean candidateMean meanDelta ciLow ciHigh wins ties losses
    }
    regressions(first: $first) {
      testCaseId baseOutput candidateOutput
      changes { name source base candidate delta }
      testCase { ...CaseFields }
    }
  }
}
${CASE_FIELDS}`;

export async function compareView(view, projectId, baseId, candidateId) {
  const { project, compareTestRuns: c } = await graphql(COMPARE, {
    projectId,
    base: baseId,
    candidate: candidateId,
    first: SHOWN_REGRESSIONS,
  });
  const run = (r) => link(r.name, "projects", projectId, "runs", r.id);
  view.show(
    h("p", { class: "crumbs" }, link(project.name, "projects", projectId), " / comparison"),
    h("h1", {}, "Comparison"),
    h("p", {}, "Base ", run(c.base), " → candidate ", run(c.candidate)),
    h(
      "p",
      { class: "muted" },
      `${number(c.sharedCaseCount)} shared cases · `,
      h(
        "span",
        { class: c.regressionCount ? "worse" : "" },
        `${number(c.regressionCount)} regressions`,
      ),
      ` · ${number(c.improvementCount)} improvements`,
    ),
    section("Evaluations", evaluationTable(c.evaluations)),
    section(
      `Regressions (${number(c.regressionCount)})`,
      c.regressionCount > c.regressions.length
        ? h("p", { class: "muted" }, `The first ${c.regressions.length} are shown.`)
        : null,
      c.regressions.length
        ? h("ol", { class: "regressions" }, c.regressions.map(regression))
        : h("p", { class: "muted" }, "No case got worse."),
    ),
  );
}

function evaluationTable(rows) {
  if (!rows.length) return h("p", { class: "muted" }, "No evaluation was scored in both runs.");
  const headings = [
    "Evaluation",
    "Source",
    "Pairs",
    "Base mean",
    "Candidate mean",
    "Δ mean",
    "95% CI",
    "Wins / ties / losses",
  ];
  return h(
    "table",
    { class: "evaluations" },
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
      rows.map((e) => {
        // Worse for sure when the whole interval is below zero; better when above.
        const verdict =
          e.ciHigh !== null && e.ciHigh < 0
            ? "worse"
            : e.ciLow !== null && e.ciLow > 0
              ? "better"
              : "";
        return h(
          "tr",
          { class: verdict },
          h("td", {}, e.name),
          h("td", {}, e.source.toLowerCase()),
          h("td", { class: "num" }, number(e.pairs)),
          h("td", { class: "num" }, score(e.baseMean)),
          h("td", { class: "num" }, score(e.candidateMean)),
          h("td", { class: "num delta" }, signed(e.meanDelta)),
          h(
            "td",
            { class: "num" },
            e.ciLow === null ? "–" : `[${signed(e.ciLow)}, ${signed(e.ciHigh)}]`,
          ),
          h("td", { class: "num" }, `${e.wins} / ${e.ties} / ${e.losses}`),
        );
      }),
    ),
  );
}

function regression(r) {
  return h(
    "li",
    { class: "regression", "data-case-id": r.testCaseId },
    h(
      "ul",
      { class: "changes" },
      r.changes.map((ch) =>
        h(
          "li",
          { class: ch.delta < 0 ? "worse" : "better" },
          `${ch.name}: ${score(ch.base)} → ${score(ch.candidate)} (${signed(ch.delta)})`,
        ),
      ),
    ),
    r.testCase ? caseView(r.testCase, 300) : null,
    h(
      "div",
      { class: "outputs" },
      h(
        "div",
        {},
        h("span", { class: "label" }, "Base output"),
        h("pre", {}, json(r.baseOutput, 1200)),
      ),
      h(
        "div",
        {},
        h("span", { class: "label" }, "Candidate output"),
        h("pre", {}, json(r.candidateOutput, 1200)),
      ),
    ),
  );
}
