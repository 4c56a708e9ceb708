"""Grading math: the comparative 80 %, the 20 %, bonus, ties, failures, metric direction."""

import pytest

from grader.exam import Grading
from grader.grading import Entry, competition_ranks, formula, grade_class, objective_fractions

LINEAR = Grading(scheme="linear", baseline=0.1, scale=30, bonus=0.0)


def by_student(grades):
    return {g.student: g for g in grades}


def test_linear_maps_baseline_to_zero_and_best_to_full():
    entries = [Entry("best", 0.9, 1.0), Entry("mid", 0.5, 0.5), Entry("base", 0.1, 0.0)]
    f = objective_fractions(entries, LINEAR, higher=True)
    assert f == {"best": 1.0, "mid": pytest.approx(0.5), "base": 0.0}
    g = by_student(grade_class(entries, LINEAR, higher=True))
    assert g["best"].objective_points == 24.0 and g["best"].quality_points == 6.0 and g["best"].total == 30.0
    assert g["mid"].objective_points == 12.0 and g["mid"].quality_points == 3.0


def test_below_baseline_is_clipped_to_zero_not_negative():
    entries = [Entry("a", 0.8, 0), Entry("worse_than_chance", 0.05, 0)]
    assert objective_fractions(entries, LINEAR, True)["worse_than_chance"] == 0.0


def test_lower_is_better_metric_rewards_the_smallest_error():
    g = Grading(scheme="linear", baseline=1.0, scale=100)
    entries = [Entry("small_error", 0.2, 0), Entry("mid", 0.6, 0), Entry("worse", 1.5, 0)]
    f = objective_fractions(entries, g, higher=False)
    assert f["small_error"] == 1.0 and f["mid"] == pytest.approx(0.5) and f["worse"] == 0.0


def test_failed_submissions_get_no_objective_points_but_keep_quality():
    entries = [Entry("ok", 0.9, 0.5), Entry("crashed", None, 0.75)]
    g = by_student(grade_class(entries, LINEAR, True))
    assert g["crashed"].objective_points == 0 and g["crashed"].quality_points == 4.5
    assert g["crashed"].rank is None


def test_all_failed_class_gets_only_quality():
    entries = [Entry("a", None, 1.0), Entry("b", None, 0.0)]
    g = by_student(grade_class(entries, Grading(bonus=2, scale=30, baseline=0.1), True))
    assert g["a"].total == 6.0 and g["b"].total == 0.0 and g["a"].bonus == 0


def test_ties_share_rank_and_bonus():
    entries = [Entry("a", 0.9, 0), Entry("b", 0.9, 0), Entry("c", 0.7, 0)]
    assert competition_ranks({e.student: e.metric for e in entries}, True) == {"a": 1, "b": 1, "c": 3}
    g = by_student(grade_class(entries, Grading(bonus=1, baseline=0.1, scale=30), True))
    assert g["a"].bonus == g["b"].bonus == 1 and g["c"].bonus == 0
    assert g["a"].total == g["b"].total == 25.0


def test_rank_scheme():
    entries = [Entry("a", 0.9, 0), Entry("b", 0.8, 0), Entry("c", 0.8, 0), Entry("d", 0.7, 0), Entry("x", None, 0)]
    f = objective_fractions(entries, Grading(scheme="rank", baseline=0.1), True)
    assert f == {"a": 1.0, "b": 0.75, "c": 0.75, "d": 0.25, "x": 0.0}


def test_target_scheme_is_fixed_not_comparative():
    g = Grading(scheme="target", baseline=0.5, target=0.9)
    f = objective_fractions([Entry("a", 0.7, 0), Entry("b", 0.95, 0)], g, True)
    assert f["a"] == pytest.approx(0.5) and f["b"] == 1.0


def test_single_valid_result_at_best_gets_full_points():
    f = objective_fractions([Entry("only", 0.4, 0)], LINEAR, True)
    assert f == {"only": 1.0}


def test_formula_names_the_numbers():
    text = formula(LINEAR, "accuracy", True, 0.912)
    assert "0.8 × 30" in text and "best = 0.912" in text and "0.1" in text and "higher is better" in text
    assert "rank" in formula(Grading(scheme="rank"), "mse", False, None)


def test_final_grade_rounds_half_up():
    g = Grading(scheme="target", baseline=0.0, target=1.0, scale=30, objective_weight=1.0, quality_weight=0.0)
    grades = by_student(grade_class([Entry("a", 26.5 / 30, 0), Entry("b", 26.49 / 30, 0)], g, True))
    assert grades["a"].final_grade == 27 and grades["b"].final_grade == 26


def test_results_within_the_tie_tolerance_share_a_rank_and_the_bonus():
    g = Grading(scheme="rank", baseline=0.0, scale=30, bonus=1.0, tie_tolerance=0.001)
    entries = [Entry("a", 0.9000, 0), Entry("b", 0.8995, 0), Entry("c", 0.8900, 0), Entry("d", 0.8899, 0)]
    grades = by_student(grade_class(entries, g, higher=True))
    assert [grades[s].rank for s in "abcd"] == [1, 1, 3, 3]
    assert grades["a"].tie and grades["b"].tie and grades["a"].bonus == grades["b"].bonus == 1.0
    assert grades["a"].objective_points == grades["b"].objective_points
    exact = by_student(grade_class(entries, Grading(scheme="rank", baseline=0.0, scale=30), higher=True))
    assert [exact[s].rank for s in "abcd"] == [1, 2, 3, 4] and not exact["a"].tie
    # lower is better: MSE 0.00266 and 0.00271 are different results unless the tolerance says otherwise
    mse = [Entry("x", 0.00266, 0), Entry("y", 0.00271, 0)]
    assert competition_ranks({e.student: e.metric for e in mse}, higher=False) == {"x": 1, "y": 2}
    assert competition_ranks({e.student: e.metric for e in mse}, higher=False, tolerance=1e-4) == {"x": 1, "y": 1}


def test_parameter_bonus_rewards_fewer_parameters_of_valid_results_only():
    from grader.exam import ParameterBonus

    rule = ParameterBonus(points=2.0, scheme="linear", full_at=100_000, zero_at=1_100_000)
    g = Grading(scheme="linear", baseline=0.1, scale=30, parameter_bonus=rule)
    entries = [Entry("tiny", 0.8, 0, parameters=50_000), Entry("mid", 0.9, 0, parameters=600_000),
               Entry("huge", 0.95, 0, parameters=2_000_000), Entry("useless", 0.05, 0, parameters=10),
               Entry("failed", None, 0, parameters=10)]
    grades = by_student(grade_class(entries, g, higher=True))
    assert grades["tiny"].parameter_bonus == 2.0 and grades["mid"].parameter_bonus == 1.0
    assert grades["huge"].parameter_bonus == 0.0
    assert grades["useless"].parameter_bonus == 0.0 and grades["failed"].parameter_bonus == 0.0  # below baseline
    assert grades["mid"].total == pytest.approx(grades["mid"].objective_points + 1.0)
    ranked = Grading(scheme="linear", baseline=0.1, scale=30, parameter_bonus=ParameterBonus(3.0, "rank"))
    by_rank = by_student(grade_class(entries, ranked, higher=True))
    assert (by_rank["tiny"].parameter_bonus, by_rank["mid"].parameter_bonus, by_rank["huge"].parameter_bonus) == (
        3.0, 2.0, 1.0)
    assert "fewer parameters" in formula(g, "Accuracy", True, 0.95)
