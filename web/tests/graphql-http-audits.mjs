// graphql-http's server audits (GraphQL-over-HTTP spec conformance) against a live server.
// Usage: node graphql-http-audits.mjs URL API_KEY
// Prints the count of each status and every audit that did not pass, as one JSON line.
import { serverAudits } from "graphql-http";

const [url, key] = process.argv.slice(2);

// Every audit request carries the key, as a frontend's would.
const fetchFn = (input, init = {}) =>
  fetch(input, { ...init, headers: { ...init.headers, authorization: `Bearer ${key}` } });

const results = await Promise.all(serverAudits({ url, fetchFn }).map((audit) => audit.fn()));
const failing = [];
for (const result of results) {
  if (result.status !== "ok") {
    const body = await result.response.text().catch(() => "");
    failing.push({
      id: result.id,
      name: result.name,
      status: result.status,
      reason: result.reason,
      response: `${result.response.status} ${body.slice(0, 300)}`,
    });
  }
}
const count = (status) => results.filter((result) => result.status === status).length;
console.log(
  JSON.stringify({
    total: results.length,
    ok: count("ok"),
    notice: count("notice"),
    warn: count("warn"),
    error: count("error"),
    failing,
  }),
);
