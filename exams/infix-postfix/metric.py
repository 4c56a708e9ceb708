"""The metric of the infix-postfix exam: exact-match accuracy of the postfix strings.

Loaded by the grader from the exam folder (``[metric] name = "metric.py:score"``), in the grader's own
process, on the labels of one round (the grader averages the rounds). A pure function: no files, no
state. Whitespace is normalized before comparing (``"a  b +"`` and ``" a b + "`` equal ``"a b +"``),
so only the tokens and their order count.
"""

import numpy as np

DIRECTION = "higher"
DISPLAY = "Postfix accuracy"
KINDS = ("text",)


def normalize(text: str) -> str:
    """The tokens of a postfix string separated by single spaces."""
    return " ".join(str(text).split())


def score(labels, predictions) -> float:
    """Share of formulas whose postfix translation is exactly right (whitespace normalized)."""
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    if labels.shape != predictions.shape or labels.ndim != 1 or len(labels) == 0:
        raise ValueError(f"labels {labels.shape} and predictions {predictions.shape}: two 1-D arrays "
                         "of the same non-zero length are needed")
    return float(np.mean([normalize(y) == normalize(p) for y, p in zip(labels, predictions)]))
