"""The statistics a comparison and a summary report, checked against reference computations."""

import math
import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.compare import paired_delta, t_critical
from app.domain.evaluations import EvaluationKind
from app.domain.result_statistics import infer_kind, stats_of
from app.domain.scores import ScoreSource

# Published two-sided 95% quantiles of Student's t (any statistics table).
T_TABLE = {1: 12.706, 2: 4.303, 10: 2.228, 30: 2.042, 40: 2.021, 60: 2.000, 120: 1.980}

scores = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
pairs = st.lists(st.tuples(scores, scores), max_size=60)


@pytest.mark.parametrize(("df", "expected"), sorted(T_TABLE.items()))
def test_t_critical_matches_the_published_table(df: int, expected: float) -> None:
    assert t_critical(df) == pytest.approx(expected, abs=1e-3)


def test_t_critical_falls_towards_the_normal_quantile() -> None:
    values = [t_critical(df) for df in range(1, 500)]
    assert values == sorted(values, reverse=True)
    assert values[-1] == pytest.approx(statistics.NormalDist().inv_cdf(0.975), abs=1e-2)


def test_t_critical_needs_a_degree_of_freedom() -> None:
    with pytest.raises(ValueError, match="degree"):
        t_critical(0)


def reference_interval(deltas: list[float]) -> tuple[float, float]:
    """Mean ± t·s/√n, written out from the textbook formula."""
    n = len(deltas)
    mean = sum(deltas) / n
    variance = sum((d - mean) ** 2 for d in deltas) / (n - 1)
    half = t_critical(n - 1) * math.sqrt(variance) / math.sqrt(n)
    return mean - half, mean + half


@given(pairs)
def test_paired_delta_agrees_with_the_textbook_computation(
    sample: list[tuple[float, float]],
) -> None:
    result = paired_delta("accuracy", ScoreSource.CLIENT, EvaluationKind.NUMERIC, sample)
    deltas = [c - b for b, c in sample]
    assert result.pairs == len(sample)
    assert result.wins + result.ties + result.losses == len(sample)
    assert result.wins == sum(d > 0 for d in deltas)
    assert result.losses == sum(d < 0 for d in deltas)
    if not sample:
        assert result.mean_delta is result.ci_low is result.ci_high is None
        return
    assert result.mean_delta == pytest.approx(sum(deltas) / len(deltas), rel=1e-9, abs=1e-6)
    assert result.base_mean == pytest.approx(sum(b for b, _ in sample) / len(sample), abs=1e-6)
    assert result.ci_low is not None
    assert result.ci_high is not None
    assert result.ci_low <= result.mean_delta + 1e-6
    assert result.mean_delta <= result.ci_high + 1e-6
    if len(sample) >= 2:
        low, high = reference_interval(deltas)
        assert result.ci_low == pytest.approx(low, rel=1e-6, abs=1e-6)
        assert result.ci_high == pytest.approx(high, rel=1e-6, abs=1e-6)


@given(pairs)
def test_swapping_the_runs_mirrors_the_comparison(sample: list[tuple[float, float]]) -> None:
    forward = paired_delta("a", ScoreSource.AUTO, EvaluationKind.NUMERIC, sample)
    backward = paired_delta(
        "a", ScoreSource.AUTO, EvaluationKind.NUMERIC, [(c, b) for b, c in sample]
    )
    assert (forward.wins, forward.ties, forward.losses) == (
        backward.losses,
        backward.ties,
        backward.wins,
    )
    if sample:
        assert forward.mean_delta == pytest.approx(-backward.mean_delta, abs=1e-6)
        assert forward.ci_low == pytest.approx(-backward.ci_high, abs=1e-6)


@given(st.lists(st.booleans(), min_size=1))
def test_booleans_are_a_pass_rate(values: list[bool]) -> None:
    assert infer_kind(values) is EvaluationKind.BOOLEAN
    stats = stats_of("passed", ScoreSource.CLIENT, EvaluationKind.BOOLEAN, values)
    assert stats.count == len(values)
    assert stats.pass_count == values.count(True)
    assert stats.pass_rate == pytest.approx(values.count(True) / len(values))


@given(st.lists(st.integers(-1000, 1000) | scores, min_size=1))
def test_numbers_have_mean_min_and_max(values: list[float]) -> None:
    assert infer_kind(values) is EvaluationKind.NUMERIC
    stats = stats_of("score", ScoreSource.HUMAN, EvaluationKind.NUMERIC, values)
    assert (stats.min, stats.max) == (min(values), max(values))
    assert stats.mean == pytest.approx(statistics.fmean(values), rel=1e-9, abs=1e-6)


@given(
    st.lists(
        st.text(max_size=5) | st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1),
        min_size=1,
    )
)
def test_anything_else_is_counted_by_category(values: list[object]) -> None:
    kinds = {infer_kind(values)}
    if all(isinstance(v, bool) for v in values):
        assert kinds == {EvaluationKind.BOOLEAN}
    elif all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        assert kinds == {EvaluationKind.NUMERIC}
    else:
        assert kinds == {EvaluationKind.CATEGORY}
        stats = stats_of("label", ScoreSource.CLIENT, EvaluationKind.CATEGORY, values)
        assert sum(stats.categories.values()) == len(values)


def test_no_values_infer_a_category() -> None:
    assert infer_kind([]) is EvaluationKind.CATEGORY
