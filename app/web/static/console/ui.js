// Small DOM helpers. Data only ever reaches the page as text (Node.append of strings,
// textContent, setAttribute), never as HTML.

export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (value === true) element.setAttribute(name, "");
    else if (value !== false && value !== null && value !== undefined)
      element.setAttribute(name, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child !== null && child !== undefined && child !== false) element.append(child);
  }
  return element;
}

// A place in the console, as the URL's #fragment: each part URL-encoded.
export const route = (...parts) => "#/" + parts.map(encodeURIComponent).join("/");

export function link(text, ...parts) {
  return h("a", { href: route(...parts) }, text);
}

export function showError(error) {
  const code = error && error.code ? `${error.code}: ` : "";
  let text = code + (error && error.message ? error.message : String(error));
  if (error && (error.code === "UNAUTHENTICATED" || error.status === 401)) {
    text += " Check the API key (Change key, top right).";
  }
  document.getElementById("error-text").textContent = text;
  document.getElementById("error").hidden = false;
}

export function clearError() {
  document.getElementById("error").hidden = true;
  document.getElementById("error-text").textContent = "";
}

export const number = (n) => (n === null || n === undefined ? "–" : n.toLocaleString("en-US"));
export const score = (x) => (x === null || x === undefined ? "–" : Number(x.toFixed(3)).toString());
export const signed = (x) => (x === null || x === undefined ? "–" : (x > 0 ? "+" : "") + score(x));
export const percent = (x) => (x === null || x === undefined ? "–" : `${(x * 100).toFixed(1)}%`);
export const when = (iso) => (iso ? new Date(iso).toLocaleString() : "–");

// A JSON value as text: strings as they are, other values on one line when short, else
// indented; cut at `limit` characters.
export function json(value, limit = 0) {
  let text = typeof value === "string" ? value : JSON.stringify(value);
  if (text === undefined) return "null";
  if (typeof value !== "string" && text.length > 100) text = JSON.stringify(value, null, 2);
  return limit && text.length > limit ? text.slice(0, limit) + "…" : text;
}

export function statusBadge(status) {
  return h("span", { class: `badge status-${status.toLowerCase()}` }, status.toLowerCase());
}

export function section(title, ...children) {
  return h("section", { class: "panel" }, h("h2", {}, title), ...children);
}

// One page of a Relay connection at a time: `load(first, after)` answers the connection
// ({edges, pageInfo, totalCount}); `render(nodes, offset)` draws one page's items.
export function pager(load, render, size) {
  const body = h("div", { class: "pager-body" });
  const info = h("span", { class: "pager-info muted" });
  const previous = h("button", { type: "button", onclick: () => show(page - 1) }, "← Previous");
  const next = h("button", { type: "button", onclick: () => show(page + 1) }, "Next →");
  const element = h("div", { class: "pager" }, h("nav", {}, previous, info, next), body);
  const cursors = [null]; // cursors[i] is the `after` of page i
  let page = 0;

  async function show(index) {
    previous.disabled = next.disabled = true;
    try {
      const connection = await load(size, cursors[index]);
      page = index;
      if (connection.pageInfo.hasNextPage) cursors[index + 1] = connection.pageInfo.endCursor;
      const nodes = connection.edges.map((edge) => edge.node);
      const first = page * size;
      body.replaceChildren(
        nodes.length ? render(nodes, first) : h("p", { class: "muted" }, "Nothing here yet."),
      );
      info.textContent = nodes.length
        ? `${number(first + 1)}–${number(first + nodes.length)} of ${number(connection.totalCount)}`
        : "";
      previous.disabled = page === 0;
      next.disabled = !connection.pageInfo.hasNextPage;
    } catch (error) {
      previous.disabled = page === 0;
      next.disabled = cursors[page + 1] === undefined;
      showError(error);
    }
  }

  return { element, show: () => show(0), reload: () => show(page) };
}

export function progressBar({ done, total }) {
  return h(
    "span",
    { class: "progress" },
    h("progress", { max: total || 1, value: done }),
    ` ${number(done)} / ${number(total)}`,
  );
}
