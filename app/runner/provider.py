"""Calling a model: the OpenAI Chat Completions API through the ``openai`` SDK.

One client speaks to every provider with an OpenAI-compatible endpoint (OpenAI, Azure,
vLLM, Ollama, LiteLLM, Anthropic's compatible endpoint): the model names its ``base_url``
and the environment variable that holds its key. The key is read when a call is made and
never leaves this module: every message that could carry it is scrubbed first.

The SDK's own retries are off; this module retries so that waiting goes through one
injectable ``sleep`` and stays bounded: a 429 waits what ``Retry-After`` says (up to
``max_retry_after``), 5xx answers, timeouts, dropped connections and malformed answers back
off exponentially (``base_delay`` doubling up to ``max_delay``), at most ``max_attempts``
calls in all. Calls to one model are limited to ``per_model`` at a time in this process.
"""

import asyncio
import email.utils
import os
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import openai
from openai.types.chat import ChatCompletionMessageParam

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class ModelEndpoint:
    """Where and how to call one model."""

    model: str
    base_url: str | None = None
    api_key_env: str | None = None
    input_price_per_million: float | None = None
    output_price_per_million: float | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)

    def cost(self, prompt_tokens: int | None, completion_tokens: int | None) -> float | None:
        if self.input_price_per_million is None and self.output_price_per_million is None:
            return None
        return (
            (prompt_tokens or 0) * (self.input_price_per_million or 0)
            + (completion_tokens or 0) * (self.output_price_per_million or 0)
        ) / 1_000_000


@dataclass(frozen=True)
class Completion:
    text: str
    prompt_tokens: int | None
    completion_tokens: int | None
    latency_ms: float
    attempts: int
    cost: float | None


class ProviderError(Exception):
    """A call that failed for good; ``message`` is safe to store and show (no key in it)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 120.0
    timeout: float = 60.0


class _Retry(Exception):
    def __init__(self, message: str, status: int | None, delay: float | None) -> None:
        super().__init__(message)
        self.message, self.status, self.delay = message, status, delay


_BEARER = re.compile(r"(?i)(bearer\s+|api[_-]?key[\"'=:\s]+)[A-Za-z0-9._\-]{8,}")


def scrub(text: str, secrets: list[str]) -> str:
    """``text`` without any of ``secrets`` or anything that looks like a bearer token."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    return _BEARER.sub(lambda m: m.group(1) + "[redacted]", text)


def retry_after_seconds(headers: Mapping[str, str] | None) -> float | None:
    """What a 429's ``Retry-After`` (or ``retry-after-ms``) asks for, in seconds."""
    if not headers:
        return None
    ms = headers.get("retry-after-ms")
    if ms is not None:
        try:
            return max(float(ms) / 1000, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        parsed = email.utils.parsedate_tz(value)
        if parsed is None:
            return None
        return max(email.utils.mktime_tz(parsed) - time.time(), 0.0)


class ProviderClient:
    """Calls models; one per process (it holds the HTTP clients and per-model limits)."""

    def __init__(
        self,
        *,
        policy: RetryPolicy | None = None,
        per_model: int = 32,
        sleep: Sleep = asyncio.sleep,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.policy = policy or RetryPolicy()
        self.per_model = per_model
        self.sleep = sleep
        self.environ = os.environ if environ is None else environ
        self._clients: dict[tuple[str | None, str], openai.AsyncOpenAI] = {}
        self._limits: dict[tuple[str | None, str], asyncio.Semaphore] = {}

    def _key(self, endpoint: ModelEndpoint) -> str:
        if not endpoint.api_key_env:
            return "none"  # local servers (vLLM, Ollama) take any key
        key = self.environ.get(endpoint.api_key_env)
        if not key:
            raise ProviderError(
                f"the environment variable {endpoint.api_key_env} that holds the key of model "
                f"{endpoint.model!r} is not set"
            )
        return key

    def _client(self, endpoint: ModelEndpoint, key: str) -> openai.AsyncOpenAI:
        slot = (endpoint.base_url, key)
        client = self._clients.get(slot)
        if client is None:
            client = openai.AsyncOpenAI(
                api_key=key,
                base_url=endpoint.base_url,
                max_retries=0,
                timeout=self.policy.timeout,
            )
            self._clients[slot] = client
        return client

    def _limit(self, endpoint: ModelEndpoint) -> asyncio.Semaphore:
        slot = (endpoint.base_url, endpoint.model)
        limit = self._limits.get(slot)
        if limit is None:
            limit = self._limits[slot] = asyncio.Semaphore(self.per_model)
        return limit

    async def complete(self, endpoint: ModelEndpoint, messages: list[dict[str, Any]]) -> Completion:
        """The model's answer to ``messages``; ProviderError when it fails for good."""
        key = self._key(endpoint)
        client = self._client(endpoint, key)
        policy = self.policy
        last: _Retry | None = None
        for attempt in range(1, policy.max_attempts + 1):
            try:
                async with self._limit(endpoint):
                    started = time.perf_counter()
                    text, usage = await self._call(client, endpoint, messages)
                    latency = (time.perf_counter() - started) * 1000
            except _Retry as retry:
                last = retry
                if attempt == policy.max_attempts:
                    break
                delay = retry.delay
                if delay is None:
                    delay = min(policy.base_delay * 2 ** (attempt - 1), policy.max_delay)
                await self.sleep(delay)
                continue
            except ProviderError as error:
                raise ProviderError(scrub(error.message, [key]), error.status) from None
            prompt_tokens = getattr(usage, "prompt_tokens", None)
            completion_tokens = getattr(usage, "completion_tokens", None)
            return Completion(
                text=text,
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
                latency_ms=latency,
                attempts=attempt,
                cost=endpoint.cost(prompt_tokens, completion_tokens),
            )
        assert last is not None
        message = f"{last.message} (gave up after {policy.max_attempts} attempts)"
        raise ProviderError(scrub(message, [key]), last.status)

    async def _call(
        self, client: openai.AsyncOpenAI, endpoint: ModelEndpoint, messages: list[dict[str, Any]]
    ) -> tuple[str, Any]:
        """One call. _Retry for what may pass, ProviderError for what will not."""
        try:
            answer = await client.chat.completions.create(
                model=endpoint.model,
                # openai types each role's message as its own TypedDict; these are the
                # {role, content} dicts of rendered templates and judges' prompts.
                messages=cast(list[ChatCompletionMessageParam], messages),
                **dict(endpoint.parameters),
            )
        except openai.RateLimitError as error:
            wait = retry_after_seconds(error.response.headers)
            if wait is not None and wait > self.policy.max_retry_after:
                raise ProviderError(
                    f"429 from the provider asks to wait {wait:g}s: {_said(error)}", 429
                ) from None
            raise _Retry(f"429 from the provider: {_said(error)}", 429, wait) from None
        except openai.InternalServerError as error:
            raise _Retry(
                f"{error.status_code} from the provider: {_said(error)}", error.status_code, None
            ) from None
        except openai.APITimeoutError:
            raise _Retry("the provider did not answer in time", None, None) from None
        except openai.APIConnectionError as error:
            raise _Retry(f"could not reach the provider: {error.message}", None, None) from None
        except openai.APIStatusError as error:
            raise ProviderError(
                f"{error.status_code} from the provider: {_said(error)}", error.status_code
            ) from None
        except (openai.APIResponseValidationError, ValueError) as error:
            raise _Retry(f"the provider's answer is not valid: {error}", None, None) from None
        choices = getattr(answer, "choices", None)
        if not choices:
            raise _Retry("the provider's answer has no choices", None, None)
        content = getattr(choices[0].message, "content", None)
        if not isinstance(content, str):
            raise _Retry("the provider's answer has no text content", None, None)
        return content, getattr(answer, "usage", None)


def _said(error: openai.APIStatusError) -> str:
    """The provider's own words about an error, short."""
    body = error.body
    if isinstance(body, Mapping):
        inner = body.get("error", body)
        if isinstance(inner, Mapping) and isinstance(said := inner.get("message"), str):
            return said[:500]
    text = error.message or ""
    return text[:500]
