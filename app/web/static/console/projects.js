// The projects the key may see; a project's datasets and test runs, and picking two runs
// to compare.
import { graphql } from "./api.js";
import { h, link, number, pager, progressBar, route, section, statusBadge, when } from "./ui.js";

const PROJECTS = `query Projects { projects { id name createdAt } }`;

const PROJECT = `query Project($id: ID!) { project(id: $id) { id name } }`;

const DATASETS = `query Datasets($id: ID!, $first: Int!, $after: String) {
  project(id: $id) {
    datasets(first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { node { id name description testCaseType testCaseCount version updatedAt } }
    }
  }
}`;

const RUNS = `query Runs($id: ID!, $first: Int!, $after: String) {
  project(id: $id) {
    testRuns(first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { node {
        id name status createdAt testCaseCount progress { done total } dataset { id name }
      } }
    }
  }
}`;

export async function projectsView(view) {
  const { projects } = await graphql(PROJECTS);
  view.show(
    section(
      "Projects",
      projects.length
        ? h(
            "ul",
            { class: "plain" },
            projects.map((p) => h("li", {}, link(p.name, "projects", p.id))),
          )
        : h("p", { class: "muted" }, "This key sees no project."),
    ),
  );
}

export async function projectView(view, projectId) {
  const { project } = await graphql(PROJECT, { id: projectId });
  if (!project) throw new Error("No such project (or the key may not see it).");

  const datasets = pager(
    async (first, after) =>
      (await graphql(DATASETS, { id: projectId, first, after })).project.datasets,
    (nodes) =>
      h(
        "table",
        {},
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ["Dataset", "Kind", "Cases", "Version", "Updated"].map((t) => h("th", {}, t)),
          ),
        ),
        h(
          "tbody",
          {},
          nodes.map((d) =>
            h(
              "tr",
              {},
              h(
                "td",
                {},
                link(d.name, "projects", projectId, "datasets", d.id),
                h("div", { class: "muted small" }, d.description),
              ),
              h("td", {}, d.testCaseType.toLowerCase()),
              h("td", { class: "num" }, number(d.testCaseCount)),
              h("td", { class: "num" }, number(d.version)),
              h("td", {}, when(d.updatedAt)),
            ),
          ),
        ),
      ),
    20,
  );

  const picked = { base: null, candidate: null };
  const compare = h(
    "button",
    {
      type: "button",
      disabled: true,
      onclick: () => {
        location.hash = route("projects", projectId, "compare", picked.base, picked.candidate);
      },
    },
    "Compare base → candidate",
  );
  const pick = (role, id) => {
    picked[role] = id;
    compare.disabled = !picked.base || !picked.candidate || picked.base === picked.candidate;
  };
  const radio = (role, id) =>
    h("input", {
      type: "radio",
      name: role,
      value: id,
      "aria-label": `${role} ${id}`,
      checked: picked[role] === id,
      onchange: () => pick(role, id),
    });

  const runs = pager(
    async (first, after) => (await graphql(RUNS, { id: projectId, first, after })).project.testRuns,
    (nodes) =>
      h(
        "table",
        {},
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ["Base", "Candidate", "Test run", "Dataset", "Status", "Progress", "Created"].map((t) =>
              h("th", {}, t),
            ),
          ),
        ),
        h(
          "tbody",
          {},
          nodes.map((r) =>
            h(
              "tr",
              {},
              h("td", { class: "center" }, radio("base", r.id)),
              h("td", { class: "center" }, radio("candidate", r.id)),
              h("td", {}, link(r.name, "projects", projectId, "runs", r.id)),
              h("td", {}, r.dataset.name),
              h("td", {}, statusBadge(r.status)),
              h("td", {}, progressBar(r.progress)),
              h("td", {}, when(r.createdAt)),
            ),
          ),
        ),
      ),
    20,
  );

  view.show(
    h("h1", {}, project.name),
    section("Datasets", datasets.element),
    section(
      "Test runs",
      h("p", { class: "muted" }, "Pick a base and a candidate run of one dataset to compare them."),
      runs.element,
      compare,
    ),
  );
  await Promise.all([datasets.show(), runs.show()]);
}
