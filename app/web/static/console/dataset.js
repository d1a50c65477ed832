// A dataset: its test cases a page at a time, and the form that creates a test run of it.
import { graphql } from "./api.js";
import { CASE_FIELDS, caseList } from "./cases.js";
import { h, link, number, pager, route, section, showError } from "./ui.js";

const DATASET = `query Dataset($projectId: ID!, $id: ID!) {
  project(id: $projectId) {
    id name
    evaluations { id name kind source }
    flavors { id name }
    promptTemplates(first: 100) { edges { node {
      id name versions(first: 20) { edges { node { id number versionName model } } }
    } } }
  }
  dataset(id: $id) { id name description testCaseType testCaseCount version }
}`;

const CASES = `query Cases($id: ID!, $first: Int!, $after: String) {
  dataset(id: $id) {
    testCases(first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { node { ...CaseFields } }
    }
  }
}
${CASE_FIELDS}`;

const CREATE_RUN = `mutation CreateTestRun($input: CreateTestRunInput!) {
  createTestRun(input: $input) { testRun { id } }
}`;

export async function datasetView(view, projectId, datasetId) {
  const { project, dataset } = await graphql(DATASET, { projectId, id: datasetId });
  if (!project || !dataset) throw new Error("No such dataset (or the key may not see it).");

  const cases = pager(
    async (first, after) =>
      (await graphql(CASES, { id: datasetId, first, after })).dataset.testCases,
    caseList,
    50,
  );

  view.show(
    h("p", { class: "crumbs" }, link(project.name, "projects", projectId), " / dataset"),
    h("h1", {}, dataset.name),
    h(
      "p",
      { class: "muted" },
      `${dataset.testCaseType.toLowerCase()} dataset · ` +
        `${number(dataset.testCaseCount)} test cases · version ${dataset.version}`,
      dataset.description ? ` · ${dataset.description}` : "",
    ),
    section("Create a test run", runForm(project, dataset)),
    section("Test cases", cases.element),
  );
  await cases.show();
}

function runForm(project, dataset) {
  const name = h("input", { name: "name", placeholder: "generated from the dataset's name" });
  const description = h("textarea", { name: "description", rows: 2 });
  const flavor = h(
    "select",
    { name: "flavor" },
    h("option", { value: "" }, "(none)"),
    project.flavors.map((f) => h("option", { value: f.name }, f.name)),
  );
  const evaluations = project.evaluations.map((e) =>
    h("input", { type: "checkbox", name: "evaluation", value: e.id }),
  );
  const includeOutputs = h("input", { type: "checkbox", name: "include-outputs", checked: true });
  // Optional: the server runs every case with a prompt template version.
  const version = h(
    "select",
    { name: "prompt-version" },
    h("option", { value: "" }, "(none: a client records the results)"),
    project.promptTemplates.edges.map(({ node: t }) =>
      h(
        "optgroup",
        { label: t.name },
        t.versions.edges.map(({ node: v }) =>
          h(
            "option",
            { value: v.id },
            `${t.name} v${v.number}${v.versionName ? ` (${v.versionName})` : ""} · ${v.model}`,
          ),
        ),
      ),
    ),
  );
  const repetitions = h("input", { type: "number", name: "repetitions", min: 1, value: 1 });
  const concurrency = h("input", { type: "number", name: "concurrency", min: 1, value: 4 });
  const submit = h("button", { type: "submit" }, "Create test run");
  const row = (label, ...control) => h("label", { class: "row" }, h("span", {}, label), ...control);

  return h(
    "form",
    {
      class: "run-form",
      onsubmit: async (event) => {
        event.preventDefault();
        submit.disabled = true;
        const input = {
          projectId: project.id,
          datasetName: dataset.name,
          includeOutputs: includeOutputs.checked,
          testRunDescription: description.value,
          targetEvaluationIds: evaluations.filter((box) => box.checked).map((box) => box.value),
        };
        if (name.value.trim()) input.testRunName = name.value.trim();
        if (flavor.value) input.flavorName = flavor.value;
        if (version.value) {
          input.execute = {
            promptTemplateVersionId: version.value,
            repetitions: Number(repetitions.value),
            concurrency: Number(concurrency.value),
          };
        }
        try {
          const { createTestRun } = await graphql(CREATE_RUN, { input });
          location.hash = route("projects", project.id, "runs", createTestRun.testRun.id);
        } catch (error) {
          showError(error);
          submit.disabled = false;
        }
      },
    },
    row("Name", name),
    row("Description", description),
    row("Flavor", flavor),
    row("Run on the server with", version),
    row("Repetitions", repetitions),
    row("Concurrency", concurrency),
    h(
      "fieldset",
      {},
      h("legend", {}, "Evaluations"),
      project.evaluations.length
        ? project.evaluations.map((e, i) =>
            h(
              "label",
              { class: "check" },
              evaluations[i],
              ` ${e.name} `,
              h(
                "span",
                { class: "muted small" },
                `${e.source.toLowerCase()}, ${e.kind.toLowerCase()}`,
              ),
            ),
          )
        : h("span", { class: "muted" }, "The project has no evaluations."),
    ),
    h("label", { class: "check" }, includeOutputs, " Include expected outputs"),
    h("div", {}, submit),
  );
}
