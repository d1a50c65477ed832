// The console: a few views over the public GraphQL API, chosen by the URL's #fragment.
import { apiKey } from "./api.js";
import { compareView } from "./compare.js";
import { datasetView } from "./dataset.js";
import { projectsView, projectView } from "./projects.js";
import { runView } from "./run.js";
import { clearError, h, showError } from "./ui.js";

const routes = [
  [/^#\/projects\/([^/]+)\/datasets\/([^/]+)$/, datasetView],
  [/^#\/projects\/([^/]+)\/runs\/([^/]+)$/, runView],
  [/^#\/projects\/([^/]+)\/compare\/([^/]+)\/([^/]+)$/, compareView],
  [/^#\/projects\/([^/]+)$/, projectView],
  [/^/, projectsView],
];

let shown = 0; // which render is current; older ones stop drawing and polling

async function render() {
  const generation = ++shown;
  const root = document.getElementById("view");
  clearError();
  drawKeyStatus();
  if (!apiKey.get()) {
    root.replaceChildren(keyForm());
    return;
  }
  root.replaceChildren(h("p", { class: "muted" }, "Loading…"));
  const view = {
    active: () => generation === shown,
    show: (...nodes) => {
      if (generation === shown) root.replaceChildren(...nodes);
    },
  };
  const [pattern, draw] = routes.find(([pattern]) => pattern.test(location.hash));
  const parameters = location.hash.match(pattern).slice(1).map(decodeURIComponent);
  try {
    await draw(view, ...parameters);
  } catch (error) {
    if (view.active()) {
      root.replaceChildren();
      showError(error);
    }
  }
}

function keyForm() {
  const input = h("input", {
    type: "password",
    name: "api-key",
    placeholder: "trk_…",
    autocomplete: "off",
    required: true,
    size: 48,
  });
  return h(
    "form",
    {
      class: "panel key-form",
      onsubmit: (event) => {
        event.preventDefault();
        apiKey.set(input.value);
        render();
      },
    },
    h("h2", {}, "API key"),
    h(
      "p",
      {},
      "The console calls the GraphQL API with your key. It is kept in this browser only " +
        "(scripts/run prints the demo project's key).",
    ),
    input,
    " ",
    h("button", { type: "submit" }, "Use this key"),
  );
}

function drawKeyStatus() {
  const status = document.getElementById("key-status");
  const key = apiKey.get();
  if (!key) {
    status.replaceChildren(h("span", { class: "muted" }, "no API key"));
    return;
  }
  status.replaceChildren(
    h("span", { class: "muted" }, `key …${key.slice(-4)}`),
    h(
      "button",
      {
        type: "button",
        onclick: () => {
          apiKey.clear();
          render();
        },
      },
      "Change key",
    ),
  );
}

document.getElementById("error-close").addEventListener("click", clearError);
window.addEventListener("hashchange", render);
window.addEventListener("unhandledrejection", (event) => showError(event.reason));
render();
