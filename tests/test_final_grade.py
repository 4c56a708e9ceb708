"""Final grade composition: [final] validation, oral weighting, rounding, honours, cap, pass mark, oral CSV."""

import tomllib

import pytest

from grader.exam import ExamError
from grader.final_grade import FinalRule, compose, load_oral_grades, parse_final, round_grade

ITALIAN = """
[grading]
scale = 30

[final]
project_weight = 0.4
oral_weight = 0.6
oral_scale = 30
rounding = "half_up"
scale = 30
honours_above = 30
honours_text = "30 e lode"
pass_threshold = 18
cap = true
"""


def rule_from(text: str) -> FinalRule | None:
    return parse_final(tomllib.loads(text))


@pytest.fixture
def italian() -> FinalRule:
    return rule_from(ITALIAN)


def test_parse_final_reads_every_key(italian):
    assert italian == FinalRule(0.4, 0.6, 30.0, "half_up", 30.0, 30.0, "30 e lode", 18.0, True, 30.0)
    assert italian.uses_oral
    assert parse_final(tomllib.loads("[grading]\nscale = 30\n")) is None


def test_parse_final_defaults_follow_the_project_scale():
    rule = rule_from("[grading]\nscale = 100\n[final]\nhonours_text = \"cum laude\"\n")
    assert (rule.project_weight, rule.oral_weight, rule.scale, rule.project_scale) == (1.0, 0.0, 100.0, 100.0)
    assert rule.honours_above == 100 and not rule.uses_oral and rule.pass_threshold is None and rule.cap
    assert rule_from("[final]\noral_weight = 0.75\n").project_weight == 0.25  # one weight implies the other
    assert rule_from("[final]\nrounding = \"down\"\n").honours_text is None  # no honours unless written


@pytest.mark.parametrize("body, key", [
    ("project_weight = 0.5\noral_weight = 0.6", "final.project_weight + final.oral_weight"),
    ("oral_weight = 1.5", "final.oral_weight"),
    ("oral_weight = true", "final.oral_weight"),
    ("rounding = \"banker\"", "final.rounding"),
    ("scale = 0", "final.scale"),
    ("oral_scale = -30", "final.oral_scale"),
    ("honours_above = 30", "final.honours_text"),
    ("honours_text = \"  \"", "final.honours_text"),
    ("pass_threshold = 31", "final.pass_threshold"),
    ("pass_threshold = \"18\"", "final.pass_threshold"),
    ("cap = \"yes\"", "final.cap"),
    ("oral_wieght = 0.6", "final.oral_wieght"),
])
def test_parse_final_names_the_bad_key(body, key):
    with pytest.raises(ExamError, match=key.replace("+", r"\+")):
        rule_from(f"[grading]\nscale = 30\n[final]\n{body}\n")


def test_final_must_be_a_table():
    with pytest.raises(ExamError, match=r"\[final\]"):
        parse_final({"final": 3})


def test_project_above_the_scale_with_a_perfect_oral_earns_honours(italian):
    grade = compose(30.6, 30, italian)  # 30 × (0.4 × 30.6/30 + 0.6 × 30/30) = 30.24 > 30
    assert grade.text == "30 e lode" and grade.number == 30 and grade.passed is True
    assert "0.4 × 30.6/30" in grade.explanation and "0.6 × 30/30" in grade.explanation
    assert "30.24" in grade.explanation and "30 e lode" in grade.explanation


def test_exactly_the_scale_is_no_honours(italian):
    grade = compose(30, 30, italian)
    assert grade.text == "30" and grade.number == 30


def test_31_out_of_30_is_never_printed():
    plain = compose(31, None, None, scale=30)  # no [final]: capped, no honours text
    assert plain.number == 30 and plain.text == "30" and "capped" in plain.explanation
    honours = compose(31, None, rule_from("[final]\nhonours_text = \"30 e lode\"\n"))
    assert honours.number == 30 and honours.text == "30 e lode"
    uncapped = compose(31, None, rule_from("[final]\ncap = false\n"))
    assert uncapped.number == 31 and uncapped.text == "31"  # the instructor asked for it


def test_without_final_the_project_total_is_rounded_half_up():
    assert compose(27.5, None, None, scale=30).text == "28"
    assert compose(26.5, None, None, scale=30).text == "27"  # not banker's rounding
    assert compose(26.49, None, None, scale=30).number == 26
    with pytest.raises(ValueError, match="scale"):
        compose(27, None, None)


def test_half_up_down_and_nearest_half():
    assert [round_grade(27.5, "half_up"), round_grade(27.5, "down"), round_grade(27.9, "down")] == [28, 27, 27]
    assert [round_grade(v, "nearest_half") for v in (27.2, 27.25, 27.3, 27.74, 27.75)] == [27, 27.5, 27.5, 27.5, 28]
    assert round_grade(0.1 * 3 * 91.66666666666667, "half_up") == 28  # 27.499999999999996 is 27.5
    down = rule_from("[final]\nproject_weight = 0.5\noral_weight = 0.5\nrounding = \"down\"\n")
    assert compose(27, 28.8, down).text == "27"  # 27.9 -> 27
    half = rule_from("[final]\nproject_weight = 0.5\noral_weight = 0.5\nrounding = \"nearest_half\"\n")
    assert compose(27, 27.6, half).text == "27.5" and compose(27, 27.6, half).number == 27.5


def test_pass_threshold(italian):
    failed = compose(10, 16.6, italian)  # 4 + 9.96 = 13.96 -> 14
    assert failed.text == "failed (14 < 18)" and failed.passed is False and failed.number == 14
    assert compose(18, 18, italian).passed is True and compose(18, 18, italian).text == "18"
    assert compose(17.6, 17.4, italian).text == "failed (17 < 18)"  # 17.48 rounds down
    assert compose(17.6, 17.5, italian).text == "18"  # 17.54 rounds up to the pass mark
    assert compose(20, None, None, scale=30).passed is None  # no pass mark configured


def test_missing_oral_or_project_is_absent(italian):
    absent = compose(28, None, italian)
    assert absent.number is None and absent.passed is None and absent.text == "absent: no oral grade"
    assert "oral" in absent.explanation
    assert compose(None, 28, italian).text == "absent: no project grade"


def test_late_penalty_and_refusal(italian):
    late = compose(28, 28, italian, penalty=2)
    assert late.number == 26 and "− 2 (late)" in late.explanation
    assert compose(30.6, 30, italian, penalty=1).text == "29"  # 29.24: the penalty also takes the honours away
    assert compose(1, 0, italian, penalty=5).number == 0  # never below zero
    refused = compose(30, 30, italian, refused="more than 7 days late")
    assert refused.number is None and refused.passed is False and refused.text.startswith("refused")


def test_final_scale_differs_from_the_project_scale():
    rule = rule_from("[grading]\nscale = 100\n[final]\nscale = 30\n")
    grade = compose(91, None, rule)
    assert grade.number == 27 and "30 × 91/100" in grade.explanation


def test_load_oral_grades(tmp_path):
    known = {"alice", "bob", "carol", "dave"}
    path = tmp_path / "oral.csv"
    path.write_text("student,oral\nalice,28\nbob,\"27,5\"\ncarol,\n", encoding="utf-8")
    assert load_oral_grades(path, known) == {"alice": 28.0, "bob": 27.5}  # carol: absent
    path.write_text("\ufeffStudent;Oral;comment\nalice;27,5;good\n\nbob; 30 ;\n", encoding="utf-8")
    assert load_oral_grades(path, known, scale=30) == {"alice": 27.5, "bob": 30.0}


@pytest.mark.parametrize("body, message", [
    ("student,oral\nmallory,30\nalice,28\n", r"unknown student id\(s\) mallory; the ids of this class are: alice, bob"),
    ("student,oral\nalice,28\nalice,29\n", "alice is listed twice"),
    ("student,oral\nalice,\nalice,29\n", "alice is listed twice"),
    ("student,oral\nalice,ventotto\n", r"oral.csv:2: oral grade 'ventotto' of alice is not a number"),
    ("student,oral\nalice,31\n", "outside 0..30"),
    ("student,oral\nalice,-1\n", "outside"),
    ("student,oral\nalice,nan\n", "outside"),
    ("student,oral\nalice,27,5\n", "decimal comma"),
    ("name,grade\nalice,27\n", "student and oral"),
    ("student,oral\n,27\n", "no student id"),
])
def test_load_oral_grades_errors_name_the_line(tmp_path, body, message):
    path = tmp_path / "oral.csv"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        load_oral_grades(path, {"alice", "bob"}, scale=30)
