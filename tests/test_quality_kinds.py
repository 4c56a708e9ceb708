"""The rubric's evidence fits the exam's kind: no class balance or confusion matrix asked of a regression
or text notebook, and their own equivalents (target distribution, a look at the worst errors) count."""

from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from grader.quality import assess_quality


def notebook(explore: str, errors: str):
    return new_notebook(cells=[
        new_markdown_cell("# Data exploration"), new_code_cell(explore),
        new_markdown_cell("# Evaluation"), new_code_cell(errors)])


def evidence(result, key):
    return next(i for i in result.items if i.key == key)


def test_regression_is_not_asked_for_class_balance():
    nb = notebook("print(y_train.min(), y_train.max(), y_train.std())",
                  "residuals = y_val - model.predict(x_val)\nworst = np.argsort(np.abs(residuals))[-5:]")
    regression = assess_quality(nb, ran_ok=True, kind="values")
    text = str([i.evidence for i in regression.items])
    assert "class balance" not in text and "confusion" not in text
    assert "target distribution" in evidence(regression, "exploration").evidence
    assert "error analysis" in evidence(regression, "evaluation").evidence
    # the same notebook judged as classification misses both
    classification = assess_quality(nb, ran_ok=True, kind="class_labels")
    assert "class balance (counts per class)" in evidence(classification, "exploration").evidence
    assert regression.estimate > classification.estimate


def test_text_kind_asks_for_lengths_and_wrong_outputs():
    nb = notebook("lengths = [len(s) for s in x_train]", "wrong = [p for p, t in zip(pred, y_val) if p != t]")
    result = assess_quality(nb, ran_ok=True, kind="text")
    assert "lengths / vocabulary" in evidence(result, "exploration").evidence
    assert "error analysis" in evidence(result, "evaluation").evidence
