// Live updates: a GraphQL subscription over a WebSocket to /graphql, speaking
// graphql-transport-ws (the protocol of the graphql-ws library), with the API key in
// connection_init's payload.
import { ApiError, apiKey } from "./api.js";

const CHECK_MS = 1000; // how often an open subscription asks whether it is still wanted

// Calls onData(data) for each update. Resolves when the server completes the subscription
// (or once wanted() turns false); rejects with an ApiError when the server answers with
// errors or the connection closes early.
export function subscribe(query, variables, onData, wanted = () => true) {
  return new Promise((resolve, reject) => {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/graphql`, "graphql-transport-ws");
    const send = (message) => socket.send(JSON.stringify(message));
    let finished = false;
    const finish = (error) => {
      if (finished) return;
      finished = true;
      clearInterval(check);
      if (socket.readyState <= WebSocket.OPEN) socket.close(1000);
      if (error) reject(error);
      else resolve();
    };
    const check = setInterval(() => {
      if (!wanted()) finish();
    }, CHECK_MS);

    socket.onopen = () =>
      send({ type: "connection_init", payload: { Authorization: `Bearer ${apiKey.get()}` } });
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "connection_ack") {
        send({ id: "1", type: "subscribe", payload: { query, variables } });
      } else if (message.type === "ping") {
        send({ type: "pong" });
      } else if (message.type === "next") {
        const { data, errors } = message.payload;
        if (errors && errors.length) finish(apiError(errors[0]));
        else if (wanted()) onData(data);
        else finish();
      } else if (message.type === "error") {
        finish(apiError(message.payload[0]));
      } else if (message.type === "complete") {
        finish();
      }
    };
    socket.onclose = (event) => {
      const refused = event.code === 4403;
      finish(
        new ApiError(
          refused
            ? "The server refused the live connection: check the API key."
            : `The live connection closed (code ${event.code}).`,
          refused ? "UNAUTHENTICATED" : "CONNECTION_CLOSED",
          0,
        ),
      );
    };
  });
}

function apiError(error) {
  return new ApiError(error.message, (error.extensions && error.extensions.code) || "ERROR", 200);
}
