"""The rubric's vocabulary: heading words, keyword lists and code patterns, compiled.

Patterns are case-insensitive; "*" stands for any word ending ("improv*"). A few Italian / French /
German / Spanish synonyms, since the kit is used in European courses. Ambiguous short words are left
out on purpose ("da", "car", "but" mean other things in English).

Every pattern here runs over hostile text, so each one is written to run in linear time: no
quantifier can be retried from many start positions over the same unbounded stretch of text
(possessive ``*+``/``++`` where a quantified run is followed by something it cannot match, and
bounded look-aheads). tests/adversarial/test_quality_bombs.py times them on pathological inputs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

HEADING_WORDS: dict[str, list[str]] = {
    # Checked in this order: "Model training" is training, "Model evaluation" is evaluation.
    "evaluation": ["evaluat*", "result*", "test*", "discussion", "conclusion*", "error analysis",
                   "performance", "limit*", "valutazion*", "risultat*", "discussione", "conclusion*",
                   "évaluation", "résultats", "auswertung", "ergebnis*", "diskussion", "fazit",
                   "evaluación", "resultados", "discusión", "conclusiones"],
    "training": ["train*", "fit*", "learning curve*", "optimi*", "addestramento", "allenamento",
                 "entraînement", "apprentissage", "entrenamiento"],
    "exploration": ["explor*", "data", "dataset*", "eda", "visuali*", "esplorazion*", "dati",
                    "données", "daten*", "datos", "exploración"],
    "model": ["model*", "architectur*", "network*", "design", "choice*", "modello", "architettura",
              "modèle", "architektur", "modelo", "arquitectura", "rete", "réseau", "netz*", "red"],
    "problem": ["problem*", "task", "goal*", "objective*", "introduction", "overview", "context", "aim",
                "obiettiv*", "introduzione", "compito", "énoncé", "objectif*", "tâche", "aufgabe*",
                "ziel*", "einleitung", "objetivo*", "tarea", "introducción", "planteamiento"],
}

TASK_WORDS = ["classif*", "predict*", "regression", "recogni*", "detect*", "task", "goal*", "aim*",
              "objective*", "forecast*", "segment*", "classificar*", "classificazione", "prevedere",
              "obiettivo", "compito", "scopo", "classer", "prédire", "objectif", "tâche", "klassifi*",
              "vorhersag*", "aufgabe", "ziel", "clasificar", "clasificación", "predecir", "objetivo",
              "tarea"]
METRIC_WORDS = ["accuracy", "precision", "recall", "f1", "auc", "loss", "error rate", "mae", "mse",
                "rmse", "metric*", "score", "top-1", "accuratezza", "metrica", "precisione", "exactitude",
                "métrique", "genauigkeit", "metrik", "exactitud", "precisión", "métrica"]
DATA_WORDS = ["data", "dataset*", "image*", "sample*", "example*", "class", "classes", "label*",
              "distribution", "balance*", "imbalance*", "pixel*", "split", "dati", "immagin*", "esempi*",
              "classi", "etichett*", "distribuzione", "données", "exemple*", "étiquette*", "daten",
              "bild*", "beispiel*", "klasse*", "verteilung", "datos", "imagen*", "ejemplo*", "clases",
              "etiqueta*"]
BALANCE_WORDS = ["balance*", "imbalance*", "unbalanced", "distribution", "per class", "per-class",
                 "class count*", "frequenc*", "bilanciat*", "sbilanciat*", "distribuzione", "équilibr*",
                 "ausgewogen*", "unausgewogen*", "verteilung", "equilibr*", "desbalance*", "distribución"]
ARCHITECTURE_WORDS = ["layer*", "conv*", "dense", "dropout", "pooling", "maxpool*", "activation*",
                      "relu", "softmax", "sigmoid", "batch norm*", "batchnorm*", "normali?ation",
                      "filter*", "kernel*", "neuron*", "units", "residual", "skip connection*",
                      "embedding*", "lstm", "gru", "attention", "transformer*", "cnn", "mlp",
                      "perceptron", "hidden", "architecture", "depth", "width", "strat*", "livell*",
                      "neuroni", "architettura", "convoluzion*", "couche*", "neurone*", "schicht*",
                      "architektur", "faltung*", "capa*", "neurona*", "arquitectura", "convolución"]
REASON_WORDS = ["because", "since", "chose", "choose", "chosen", "choice", "compared", "comparing",
                "comparison", "trade-off*", "tradeoff*", "instead of", "rather than", "in order to",
                "so that", "motivat*", "justif*", "reason*", "therefore", "thus", "hence", "to avoid",
                "to reduce", "better than", "worse than", "outperform*", "ablation", "tried",
                "perché", "poiché", "siccome", "scelt*", "scegliere", "confront*", "rispetto a",
                "compromesso", "invece di", "quindi", "per evitare", "parce que", "puisque", "choisi*",
                "choix", "compar*", "compromis", "au lieu de", "plutôt que", "afin de", "weil",
                "deshalb", "daher", "gewählt", "vergleich*", "kompromiss", "anstatt", "porque",
                "ya que", "elegí", "elegido", "elección", "compromiso", "en lugar de", "en vez de",
                "por eso", "para evitar"]
PARAMETER_WORDS = ["param*", "parametri", "paramètres", "parámetros", "weights", "budget"]
TRAINING_WORDS = ["epoch*", "learning rate", "optimi?er", "adam", "sgd", "batch size", "loss",
                  "overfit*", "underfit*", "converg*", "learning curve*", "validation", "callback*",
                  "early stopping", "plateau", "schedul*", "regulari?ation", "augment*", "epoca",
                  "epoche", "tasso di apprendimento", "sovradattamento", "addestrament*", "époque*",
                  "taux d'apprentissage", "surapprentissage", "entraînement", "lernrate", "überanpassung",
                  "época*", "tasa de aprendizaje", "sobreajuste", "entrenamiento"]
EVALUATION_WORDS = ["accuracy", "validation", "test set", "confusion", "precision", "recall", "f1",
                    "error*", "misclassif*", "per-class", "per class", "result*", "validazione",
                    "matrice di confusione", "errori", "risultat*", "matrice de confusion", "erreur*",
                    "validierung", "konfusionsmatrix", "fehler", "ergebnis*", "validación",
                    "matriz de confusión", "errores", "resultados"]
LIMIT_WORDS = ["limit*", "improv*", "could", "would", "future", "next step*", "weakness*", "drawback*",
               "shortcoming*", "fail*", "struggl*", "mistake*", "overfit*", "bias*",
               "not enough", "more data", "miglior*", "potrebbe", "futur*", "debolezz*", "difett*",
               "sbagli*", "confond*", "amélior*", "pourrait", "faiblesse*", "grenze*", "einschränkung*",
               "verbesser*", "könnte*", "schwäche*", "künftig*", "limitaci*", "mejor*", "podría*",
               "debilidad*"]

# Code patterns, searched in code with its comments removed (commented-out code is no evidence).
CODE = {
    "explore": r"\.shape\b|\.head\(|\.describe\(|\.info\(|value_counts|bincount|np\.unique|\bunique\(|"
               r"Counter\(|imshow\(|\bhist\(|\.dtype\b|\.min\(\)|\.max\(\)",
    "balance": r"value_counts|bincount|return_counts|Counter\(|countplot|\bhist\(",
    "examples": r"imshow\(|\bsubplots?\(",
    "plot": r"\bplt\.|\.plot\(|imshow\(|\bsns\.|seaborn|ConfusionMatrixDisplay|\bplot_\w++\(",
    "build": r"Sequential\(|\bModel\(|\blayers\.\w++\(|\bConv\dD\(|\bDense\(",
    "summary": r"\.summary\(|count_params\(|plot_model\(",
    "fit": r"\.fit\(",
    "epochs": r"\bepochs\s*+=",
    "callbacks": r"EarlyStopping|ModelCheckpoint|ReduceLROnPlateau|LearningRateScheduler|CSVLogger|"
                 r"TensorBoard|\bcallbacks\s*+=",
    "history": r"\.history\b|\bhistory\[|\bhistory\b",
    # "np.mean(pred == y)": the look-ahead is bounded (200 characters of the same line), or a line of
    # "np.mean(np.mean(..." without ")" would rescan the rest of the line from every occurrence.
    "metrics": r"\.evaluate\(|accuracy_score|classification_report|f1_score|precision_score|recall_score|"
               r"mean_squared_error|mean_absolute_error|roc_auc_score|top_k_accuracy|\bmetrics\.\w++\(|"
               r"np\.mean(?=\([^)\n]{0,200}==)",
    "errors": r"confusion|misclass|classification_report|!=\s*+y_?+\w*+|\by_?+\w*+\s*+!=|\bwrong\w*+|"
              r"\berrors?+\s*+=",
}
EPOCH_LOG = re.compile(r"Epoch \d++/\d+|\bval_loss\b|\bval_accuracy\b")


def compile_words(words: Iterable[str]) -> re.Pattern[str]:
    """One case-insensitive alternation of whole words; "*" is any ending, "?" any one character.

    Linear: it can only start at a word start, each alternative is a literal prefix followed by a
    possessive run, and the run ends where the word does, so nothing is ever rescanned. The
    alternatives are grouped by first letter, so a word start tries a handful of them, not hundreds.
    """
    groups: dict[str, list[str]] = {}
    for word in words:
        escaped = re.escape(word[1:]).replace(r"\*", r"\w*+").replace(r"\?", ".").replace(r"\ ", r"\s++")
        groups.setdefault(word[0].lower(), []).append(escaped)
    branches = [re.escape(first) + "(?:" + "|".join(rests) + ")" for first, rests in groups.items()]
    return re.compile(r"(?<!\w)(?=\w)(?:" + "|".join(branches) + r")(?!\w)", re.IGNORECASE)


HEADING_RE = {key: compile_words(words) for key, words in HEADING_WORDS.items()}
TASK_RE, METRIC_RE, DATA_RE = compile_words(TASK_WORDS), compile_words(METRIC_WORDS), compile_words(DATA_WORDS)
BALANCE_RE, ARCH_RE = compile_words(BALANCE_WORDS), compile_words(ARCHITECTURE_WORDS)
REASON_RE, PARAM_RE = compile_words(REASON_WORDS), compile_words(PARAMETER_WORDS)
TRAIN_RE, EVAL_RE, LIMIT_RE = compile_words(TRAINING_WORDS), compile_words(EVALUATION_WORDS), compile_words(LIMIT_WORDS)
ALL_KEYWORDS_RE = compile_words(
    TASK_WORDS + METRIC_WORDS + BALANCE_WORDS + ARCHITECTURE_WORDS + REASON_WORDS + PARAMETER_WORDS
    + TRAINING_WORDS + EVALUATION_WORDS + LIMIT_WORDS
)
CODE_RE = {key: re.compile(pattern) for key, pattern in CODE.items()}
CONFUSION_RE = re.compile(r"confusion|misclass", re.IGNORECASE)
DIGIT_RE = re.compile(r"\d")


@dataclass(frozen=True)
class KindChecks:
    """What "a look at the targets" and "a look at the errors" mean for one prediction kind, so that a
    regression notebook is not asked for class balance nor a text notebook for a confusion matrix."""

    targets: str  # evidence when found
    targets_missing: str  # evidence when missing
    targets_code: re.Pattern[str]
    targets_prose: re.Pattern[str]
    errors: str
    errors_missing: str
    errors_code: re.Pattern[str]
    errors_prose: re.Pattern[str]


_CLASSES = KindChecks(
    "class balance", "class balance (counts per class)", CODE_RE["balance"], BALANCE_RE,
    "confusion matrix / error analysis", "a confusion matrix or a look at the errors", CODE_RE["errors"],
    CONFUSION_RE)
KIND_CHECKS = {
    "class_labels": _CLASSES,
    "scores": _CLASSES,
    "values": KindChecks(
        "target distribution", "the distribution of the targets (range, histogram, mean and spread)",
        re.compile(r"\.describe\(|\bhist\(|histogram|\.min\(|\.max\(|\.std\(|percentile|quantile"),
        re.compile(r"distribution|\brange\b|skew|outlier|variance|spread", re.IGNORECASE),
        "error analysis", "a look at the errors (the worst predictions, residuals)",
        re.compile(r"resid|worst|argsort|abs\(|errors?\b"),
        re.compile(r"residual|worst|largest error|errors? (?:is|are|grow|occur)", re.IGNORECASE)),
    "text": KindChecks(
        "lengths / vocabulary", "the lengths and vocabulary of the sequences",
        re.compile(r"\blen\(|Counter\(|vocab|value_counts|\bhist\("),
        re.compile(r"length|vocabular|token|alphabet", re.IGNORECASE),
        "error analysis", "a look at the wrong outputs (examples of mistakes)",
        re.compile(r"!=|wrong|mistake"),
        re.compile(r"mistake|wrong|errors? (?:is|are|occur)|fails? on", re.IGNORECASE)),
}
