// The console's only way to the server: POST /graphql with the API key kept in this browser.

const KEY_STORAGE = "testruns.apiKey";

export const apiKey = {
  get: () => localStorage.getItem(KEY_STORAGE) || "",
  set: (key) => localStorage.setItem(KEY_STORAGE, key.trim()),
  clear: () => localStorage.removeItem(KEY_STORAGE),
};

export class ApiError extends Error {
  constructor(message, code, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

// The `data` of a GraphQL answer; an ApiError carrying `extensions.code` (or the HTTP
// status) when the answer has errors or is not a GraphQL answer at all.
export async function graphql(query, variables = {}) {
  let response;
  try {
    response = await fetch("/graphql", {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Authorization: `Bearer ${apiKey.get()}`,
      },
      body: JSON.stringify({ query, variables }),
    });
  } catch (error) {
    throw new ApiError(`The server could not be reached (${error.message}).`, "NETWORK", 0);
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    // Not JSON: reported below by its HTTP status.
  }
  const first = body && Array.isArray(body.errors) ? body.errors[0] : null;
  if (first) {
    const code = (first.extensions && first.extensions.code) || "ERROR";
    throw new ApiError(first.message, code, response.status);
  }
  if (!response.ok || !body || !body.data) {
    throw new ApiError(`The server answered HTTP ${response.status}.`, "HTTP", response.status);
  }
  return body.data;
}
