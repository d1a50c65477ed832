// Subscribes to a test run with the graphql-ws client (the `ws` package as its WebSocket),
// and, once the first update has arrived, records a result for each given case over REST
// (on the same server or on another replica). Prints what it received as one JSON line:
// {"updates": [data...], "errors": [...] | null, "closed": {code, reason} | null, "complete": bool}.
//
// Argument: one JSON object
//   {"url": "http://127.0.0.1:8000", "key": "trk_..." | null, "runId": "...",
//    "query": "subscription ..." (optional), "connectionParams": {...} (optional),
//    "record": {"url": "...", "projectId": "...", "caseIds": ["..."]} (optional)}
import { randomUUID } from "node:crypto";
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const options = JSON.parse(process.argv[2]);
const QUERY = `subscription Watch($id: ID!) {
  testRun(id: $id) { id status progress { done total } }
}`;

const wsUrl = `${options.url.replace(/^http/, "ws")}/graphql`;
const connectionParams =
  options.connectionParams ?? (options.key ? { Authorization: `Bearer ${options.key}` } : {});

const outcome = { updates: [], errors: null, closed: null, complete: false };
let recording = null;

async function recordAll({ url, projectId, caseIds }) {
  for (const [i, caseId] of caseIds.entries()) {
    const response = await fetch(
      `${url}/api/v2/projects/${projectId}/sessions/${randomUUID()}/completions`,
      {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          Authorization: `Bearer ${options.key}`,
        },
        body: JSON.stringify({
          messages: [{ role: "assistant", content: `answer ${i}` }],
          test_run_info: { test_run_id: options.runId, test_case_id: caseId },
          eval_results: { good: i % 2 === 0 },
        }),
      },
    );
    if (response.status !== 201) {
      throw new Error(`recording answered ${response.status}: ${await response.text()}`);
    }
  }
}

const client = createClient({
  url: wsUrl,
  webSocketImpl: WebSocket,
  connectionParams,
  retryAttempts: 0,
  on: {
    closed: (event) => {
      if (event && event.code !== 1000) outcome.closed = { code: event.code, reason: event.reason };
    },
  },
});

await new Promise((resolve) => {
  client.subscribe(
    { query: options.query ?? QUERY, variables: { id: options.runId } },
    {
      next: (message) => {
        if (message.errors) outcome.errors = message.errors;
        if (message.data) outcome.updates.push(message.data);
        if (options.record && recording === null) recording = recordAll(options.record);
      },
      error: (error) => {
        if (Array.isArray(error)) outcome.errors = error;
        else if (error && typeof error.code === "number") {
          outcome.closed = { code: error.code, reason: error.reason };
        } else outcome.errors = [{ message: String(error) }];
        resolve();
      },
      complete: () => {
        outcome.complete = true;
        resolve();
      },
    },
  );
});
if (recording) await recording;
await client.dispose();
console.log(JSON.stringify(outcome));
