"""LLM judges: the prompt a judge model is asked, and reading a score out of its answer.

Judges answer in whatever form their model likes ("Score: 4", "4/5", "**4**", "yes",
``{"score": 4}``, a paragraph ending in a verdict), so an answer is read by a few rules
tried in order; an answer none of them reads is an error of that evaluation, never a crash.

A criterion's ``type`` says what a score is: a range such as ``1-5`` or ``1-100`` (a
number in it), ``yes-no`` / ``pass-fail`` / ``true-false`` (a boolean), ``auto-categorization``
(one of its options), ``multi-select`` (a list of its options) or ``text`` (the answer's text).
"""

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.domain.jsontext import dumps

BOOLEAN_TYPES = {
    "yes-no": ("yes", "no"),
    "pass-fail": ("pass", "fail"),
    "true-false": ("true", "false"),
    "boolean": ("yes", "no"),
}
_TRUE = {"yes", "pass", "passed", "true", "correct", "y"}
_FALSE = {"no", "fail", "failed", "false", "incorrect", "n"}
_RANGE = re.compile(r"^\s*(-?\d+)\s*-\s*(-?\d+)\s*$")
_NUMBER = r"(-?\d+(?:\.\d+)?)"
_LABELLED = re.compile(
    rf"\b(?:score|rating|grade|verdict|result|answer)\b\s*(?:is|of|=|:)?\s*\**\s*{_NUMBER}",
    re.IGNORECASE,
)
_FRACTION = re.compile(rf"{_NUMBER}\s*(?:/|out of)\s*(\d+)", re.IGNORECASE)
_SCORE_KEYS = ("score", "rating", "grade", "value", "result", "verdict", "answer", "pass")


class UnreadableJudgement(ValueError):
    """The judge's answer holds no score of the criterion's type."""


@dataclass(frozen=True)
class ScoreType:
    """What a criterion's scores are: a number from ``low`` to ``high``, a boolean, one of
    ``options`` (or several, when ``multiple``), or free text."""

    boolean: bool
    low: float = 0
    high: float = 1
    words: tuple[str, str] = ("yes", "no")
    options: tuple[str, ...] = ()
    multiple: bool = False
    text: bool = False

    def describe(self) -> str:
        if self.boolean:
            return f'"{self.words[0]}" or "{self.words[1]}"'
        if self.options:
            listed = ", ".join(f'"{o}"' for o in self.options)
            return f"{'any of' if self.multiple else 'one of'} {listed}"
        if self.text:
            return "a short answer"
        return f"a whole number from {self.low:g} to {self.high:g}"


def score_type(type_name: str, options: tuple[str, ...] = ()) -> ScoreType:
    """The ScoreType a criterion's ``type`` names; ValueError for one we cannot read."""
    name = type_name.strip().lower()
    if name in BOOLEAN_TYPES:
        return ScoreType(boolean=True, words=BOOLEAN_TYPES[name])
    if name in ("auto-categorization", "multi-select") and options:
        return ScoreType(boolean=False, options=tuple(options), multiple=name == "multi-select")
    if name == "text":
        return ScoreType(boolean=False, text=True)
    match = _RANGE.match(name)
    if match:
        low, high = int(match.group(1)), int(match.group(2))
        if low < high:
            return ScoreType(boolean=False, low=low, high=high)
    raise ValueError(f"unknown judge type {type_name!r}: use a range like 1-5, or yes-no")


def judge_messages(
    question: str,
    rubric: Mapping[str, str] | str | None,
    kind: ScoreType,
    *,
    inputs: Any,
    output: str,
    expected: Any = None,
) -> list[dict[str, str]]:
    """The chat messages that ask a judge model to score one output."""
    parts = [
        "You are evaluating the output of an AI system.",
        f"Question: {question}",
    ]
    if isinstance(rubric, Mapping):
        rubric = "\n".join(f"{score}: {meaning}" for score, meaning in rubric.items() if meaning)
    if rubric:
        parts.append(f"Rubric:\n{rubric}")
    parts.append(f"Answer with {kind.describe()} on the first line, then a short reason.")
    user = [f"Inputs:\n{dumps(inputs)}"]
    if expected is not None:
        user.append(
            f"Expected output:\n{expected if isinstance(expected, str) else dumps(expected)}"
        )
    user.append(f"Output to evaluate:\n{output}")
    return [
        {"role": "system", "content": "\n\n".join(parts)},
        {"role": "user", "content": "\n\n".join(user)},
    ]


def parse_judgement(text: str, kind: ScoreType) -> bool | float | str | list[str]:
    """The score a judge's answer gives; UnreadableJudgement when it gives none."""
    if not isinstance(text, str) or not text.strip():
        raise UnreadableJudgement("the judge answered nothing")
    if kind.text:
        return text.strip()[:1000]
    if kind.options:
        return _options_from_text(text, kind)
    found = _from_json(text)
    value: bool | float | None
    if found is None:
        value = _boolean_from_text(text, kind) if kind.boolean else _number_from_text(text, kind)
    else:
        value = _coerce(found, kind)
    if value is None:
        raise UnreadableJudgement(
            f"no {kind.describe()} found in the judge's answer: {_excerpt(text)}"
        )
    if not kind.boolean and not kind.low <= value <= kind.high:
        raise UnreadableJudgement(
            f"the judge's score {value:g} is outside {kind.low:g}-{kind.high:g}"
        )
    if not kind.boolean and float(value).is_integer():
        return int(value)
    return value


def _excerpt(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= limit else flat[:limit] + "…")


def _from_json(text: str) -> Any:
    """The score field of a JSON object in the answer (fenced or bare), if there is one."""
    start = text.find("{")
    while start != -1:
        end = text.rfind("}")
        while end > start:
            try:
                found = json.loads(text[start : end + 1])
            except ValueError:
                end = text.rfind("}", start, end)
                continue
            if isinstance(found, dict):
                for key in _SCORE_KEYS:
                    for name, value in found.items():
                        if name.lower() == key:
                            return value
            break
        start = text.find("{", start + 1)
    return None


def _coerce(value: Any, kind: ScoreType) -> bool | float | None:
    if kind.boolean:
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            return _word(value.strip().lower())
        if isinstance(value, int | float):
            return None if value not in (0, 1) else bool(value)
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        return _number_from_text(value, kind)
    return None


def _word(word: str) -> bool | None:
    word = word.strip(" .!*\"'`:")
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    return None


def _boolean_from_text(text: str, kind: ScoreType) -> bool | None:
    lowered = text.lower()
    labelled = re.search(
        r"\b(?:answer|verdict|result|score|decision|judgement|judgment)\b\s*(?:is|=|:)?\s*\**\s*"
        r"\"?([a-z]+)",
        lowered,
    )
    if labelled and (value := _word(labelled.group(1))) is not None:
        return value
    words = set(re.findall(r"[a-z]+", lowered))
    yes = bool(words & {kind.words[0], "yes", "pass", "true"})
    no = bool(words & {kind.words[1], "no", "fail", "false"})
    if yes and no:
        return None  # both said, neither labelled: no verdict
    first = re.match(r"\W*([a-z]+)", lowered)
    if first and (value := _word(first.group(1))) is not None:
        return value
    if yes != no:
        return yes
    return None


def _number_from_text(text: str, kind: ScoreType) -> float | None:
    labelled = _LABELLED.search(text)
    if labelled:
        return float(labelled.group(1))
    fraction = _FRACTION.search(text)
    if fraction:
        top, bottom = float(fraction.group(1)), float(fraction.group(2))
        if bottom == kind.high or bottom == 0:
            return top
        return kind.low + (kind.high - kind.low) * top / bottom
    numbers = {float(n) for n in re.findall(_NUMBER, text)}
    in_range = {n for n in numbers if kind.low <= n <= kind.high}
    if len(in_range) == 1:
        return in_range.pop()
    first = re.match(rf"\W*{_NUMBER}\b", text)
    if first:
        return float(first.group(1))
    return None


def _options_from_text(text: str, kind: ScoreType) -> str | list[str]:
    found = _from_json(text)
    if isinstance(found, str):
        text = found
    elif isinstance(found, list):
        text = " ".join(map(str, found))
    lowered = text.lower()
    named = [o for o in kind.options if re.search(rf"(?<!\w){re.escape(o.lower())}(?!\w)", lowered)]
    if kind.multiple:
        return named
    if len(named) == 1:
        return named[0]
    raise UnreadableJudgement(f"expected {kind.describe()} in the judge's answer: {_excerpt(text)}")
