"""Reading a score out of whatever a judge model answers."""

import pytest

from app.domain.judging import UnreadableJudgement, parse_judgement, score_type

FIVE = score_type("1-5")
YES_NO = score_type("yes-no")


@pytest.mark.parametrize(
    ("answer", "score"),
    [
        ("Score: 4", 4),
        ("4/5", 4),
        ("I'd rate it 3 out of 5.", 3),
        ("**Rating:** 5\nClear and correct.", 5),
        ('{"score": 2, "reason": "vague"}', 2),
        ('```json\n{"Score": "4"}\n```', 4),
        ("The answer is good but misses a step. Final score = 3", 3),
        ("2", 2),
        ("5. The answer is complete.", 5),
        ("Score: 4.5", 4.5),
    ],
)
def test_numeric_judgements_are_read_from_any_form(answer: str, score: float) -> None:
    assert parse_judgement(answer, FIVE) == score


@pytest.mark.parametrize(
    ("answer", "verdict"),
    [
        ("yes", True),
        ("No.", False),
        ("Yes, the answer addresses the question.", True),
        ('{"answer": "no"}', False),
        ('{"pass": true}', True),
        ("The reply is polite and correct.\nVerdict: YES", True),
        ("Answer: no — it ignores the question.", False),
        ("PASS", True),
    ],
)
def test_yes_no_judgements_are_read_from_any_form(answer: str, verdict: bool) -> None:
    assert parse_judgement(answer, YES_NO) is verdict


@pytest.mark.parametrize(
    "answer",
    ["", "I would rather not say.", "Score: 9", "somewhere between 2 and 4", "{not json"],
)
def test_an_unreadable_numeric_judgement_is_an_error_not_a_crash(answer: str) -> None:
    with pytest.raises(UnreadableJudgement):
        parse_judgement(answer, FIVE)


@pytest.mark.parametrize("answer", ["maybe", "yes and no", "It depends."])
def test_an_unreadable_yes_no_judgement_is_an_error(answer: str) -> None:
    with pytest.raises(UnreadableJudgement):
        parse_judgement(answer, YES_NO)


def test_categories_are_read_by_their_names() -> None:
    kind = score_type("auto-categorization", ("billing", "shipping", "returns"))
    assert parse_judgement("Category: Shipping", kind) == "shipping"
    with pytest.raises(UnreadableJudgement):
        parse_judgement("billing or returns", kind)
    several = score_type("multi-select", ("polite", "concise", "accurate"))
    assert parse_judgement('{"value": ["polite", "accurate"]}', several) == ["polite", "accurate"]


def test_unknown_types_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown judge type"):
        score_type("stars")
