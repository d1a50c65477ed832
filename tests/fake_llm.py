"""A real HTTP server speaking the OpenAI Chat Completions API, for tests.

``POST /v1/chat/completions`` answers deterministically from the prompt:

- a judge's request (its system message starts "You are evaluating") is scored by whether
  the output it quotes is a real answer: models named ``judge-plain`` answer "Score: 5",
  ``judge-fraction`` "5/5", ``judge-json`` a fenced JSON object, ``judge-yesno`` "Yes, ...",
  ``judge-garbage`` something no parser can read; a bad output scores 1 / "No".
- any other request is answered "Answer: <the last user message>", or "I don't know." when
  the system message asks to be "sloppy".

``usage`` counts words. Faults are injected per request: ``fail(pattern, ...)`` makes
requests whose messages contain ``pattern`` answer 429 (with ``Retry-After``), 500, a slow
answer, malformed JSON or a 400, ``times`` times or always. Every request is kept in
``requests`` (with the Authorization header it carried).
"""

import asyncio
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

BAD_ANSWER = "I don't know."


@dataclass
class Fault:
    pattern: str
    kind: str  # "429", "500", "slow", "malformed", "400"
    times: int | None = None  # None: every matching request
    retry_after: float | None = None
    delay: float = 0.0
    message: str = "injected fault"
    hits: int = 0


@dataclass
class Seen:
    model: str
    messages: list[dict[str, Any]]
    authorization: str | None
    at: float
    answered: str = ""


@dataclass
class FakeLLM:
    host: str = "127.0.0.1"
    port: int = 0
    faults: list[Fault] = field(default_factory=list)
    requests: list[Seen] = field(default_factory=list)
    lock: threading.Condition = field(default_factory=threading.Condition)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def fail(self, pattern: str, kind: str, times: int | None = None, **options: Any) -> Fault:
        fault = Fault(pattern, kind, times, **options)
        with self.lock:
            self.faults.append(fault)
        return fault

    def clear(self) -> None:
        with self.lock:
            self.faults.clear()
            self.requests.clear()

    def wait_seen(self, count: int, timeout: float = 30) -> bool:
        """Block until at least ``count`` requests arrived (or ``timeout`` passes)."""
        with self.lock:
            return self.lock.wait_for(lambda: len(self.requests) >= count, timeout)

    def seen(self, pattern: str = "") -> list[Seen]:
        with self.lock:
            return [r for r in self.requests if pattern in _text(r.messages)]

    # ---- the app ---------------------------------------------------------------------

    async def completions(self, request: Request) -> Response:
        body = await request.json()
        messages = body.get("messages") or []
        model = body.get("model", "")
        seen = Seen(model, messages, request.headers.get("authorization"), time.monotonic())
        with self.lock:
            self.requests.append(seen)
            fault = self._fault(_text(messages))
            self.lock.notify_all()
        if fault is not None:
            if fault.kind == "429":
                headers = {}
                if fault.retry_after is not None:
                    headers["Retry-After"] = f"{fault.retry_after:g}"
                return _error(429, "Rate limit reached. " + fault.message, headers)
            if fault.kind == "500":
                return _error(500, "The server had an error. " + fault.message)
            if fault.kind == "400":
                return _error(400, fault.message)
            if fault.kind == "malformed":
                return Response('{"id": "x", "choices": [', media_type="application/json")
            if fault.kind == "slow":
                await asyncio.sleep(fault.delay)
        answer = _answer(model, messages)
        seen.answered = answer
        prompt_tokens = len(_text(messages).split())
        completion_tokens = len(answer.split())
        return JSONResponse(
            {
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": answer},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            }
        )

    def _fault(self, text: str) -> Fault | None:
        for fault in self.faults:
            if fault.pattern in text and (fault.times is None or fault.hits < fault.times):
                fault.hits += 1
                return fault
        return None

    # ---- serving ---------------------------------------------------------------------

    def start(self) -> "FakeLLM":
        sock = socket.socket()
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        app = Starlette(routes=[Route("/v1/chat/completions", self.completions, methods=["POST"])])
        config = uvicorn.Config(app, log_level="warning", lifespan="off", timeout_keep_alive=30)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._server.serve(sockets=[sock])), daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the fake LLM server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


def _text(messages: list[dict[str, Any]]) -> str:
    parts = []
    for message in messages:
        content = message.get("content")
        if isinstance(content, list):
            content = " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
        parts.append(str(content))
    return "\n".join(parts)


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(
        {"error": {"message": message, "type": "fake_error", "code": str(status)}},
        status_code=status,
        headers=headers,
    )


def _answer(model: str, messages: list[dict[str, Any]]) -> str:
    system = " ".join(str(m.get("content")) for m in messages if m.get("role") == "system")
    users = [m for m in messages if m.get("role") == "user"]
    last = _text(users[-1:]) if users else ""
    if system.startswith("You are evaluating"):
        output = last.split("Output to evaluate:", 1)[-1]
        good = BAD_ANSWER not in output
        return _verdict(model, good)
    if "sloppy" in system:
        return BAD_ANSWER
    return f"Answer: {last}"


def _verdict(model: str, good: bool) -> str:
    if model == "judge-fraction":
        return "5/5" if good else "1/5"
    if model == "judge-json":
        return "```json\n" + json.dumps({"score": 5 if good else 1, "reason": "ok"}) + "\n```"
    if model == "judge-yesno":
        return "Yes, the answer addresses the question." if good else "No. It does not answer."
    if model == "judge-garbage":
        return "I would rather not say."
    return f"Score: {5 if good else 1}\nThe answer {'is' if good else 'is not'} helpful."
