"""The student template generated for an exam: it fits the exam's kind, shape, metric and files.

Cells: the task; a `parameters` cell (papermill injects the grading values into it); setup; the data;
a baseline model that fits the kind; training (skipped when GRADING); predictions in exactly the
kind and shape the exam requires, with a self-check of shape and dtype against the exam, saved to
PREDICTIONS_PATH; and headings for the student's own evaluation and discussion.
"""

from __future__ import annotations

import nbformat

from grader.kinds import KINDS

_MODEL = {
    "class_labels": '''inputs = keras.Input(x_train.shape[1:])
x = keras.layers.Flatten()(inputs)
x = keras.layers.Dense(64, activation="relu")(x)
outputs = keras.layers.Dense(NUM_CLASSES, activation="softmax")(x)
model = keras.Model(inputs, outputs)
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])''',
    "scores": '''inputs = keras.Input(x_train.shape[1:])
x = keras.layers.Flatten()(inputs)
x = keras.layers.Dense(64, activation="relu")(x)
outputs = keras.layers.Dense(int(np.prod(SHAPE)), activation="softmax")(x)
model = keras.Model(inputs, keras.layers.Reshape(SHAPE)(outputs))
model.compile(optimizer="adam", loss="categorical_crossentropy")''',
    "values": '''inputs = keras.Input(x_train.shape[1:])
x = keras.layers.Flatten()(inputs)
x = keras.layers.Dense(128, activation="relu")(x)
x = keras.layers.Dense(int(np.prod(SHAPE or (1,))))(x)
outputs = keras.layers.Reshape(SHAPE)(x) if SHAPE else keras.layers.Reshape(())(x)
model = keras.Model(inputs, outputs)
model.compile(optimizer="adam", loss="mse")''',
    "text": '''# A character-level baseline: each output position is predicted from the whole input string.
CHARS = sorted(set("".join(x_train)) | set("".join(y_train)))
INDEX = {c: i + 1 for i, c in enumerate(CHARS)}  # 0 = padding
MAXLEN = max(len(s) for s in np.concatenate([x_train, y_train])) + 2


def encode(strings):
    out = np.zeros((len(strings), MAXLEN), "int32")
    for row, s in enumerate(strings):
        ids = [INDEX.get(c, 0) for c in s[:MAXLEN]]
        out[row, :len(ids)] = ids
    return out


def decode(ids):
    return np.array(["".join(CHARS[i - 1] for i in row if i > 0) for row in ids])


inputs = keras.Input((MAXLEN,), dtype="int32")
x = keras.layers.Embedding(len(CHARS) + 1, 32)(inputs)
x = keras.layers.Bidirectional(keras.layers.LSTM(64, return_sequences=True))(x)
outputs = keras.layers.Dense(len(CHARS) + 1, activation="softmax")(x)
model = keras.Model(inputs, outputs)
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")''',
}

_FIT = {
    "class_labels": "model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=EPOCHS, verbose=2)",
    "scores": "model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=EPOCHS, verbose=2)",
    "values": "model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=EPOCHS, verbose=2)",
    "text": ("model.fit(encode(x_train), encode(y_train), validation_data=(encode(x_val), encode(y_val)), "
             "epochs=EPOCHS, verbose=2)"),
}

_PREDICT = {
    "class_labels": "predictions = np.argmax(model.predict(x_test, verbose=0), axis=-1).astype(\"int64\")",
    "scores": "predictions = model.predict(x_test, verbose=0).astype(\"float32\")",
    "values": "predictions = np.asarray(model.predict(x_test, verbose=0), dtype=\"float32\")",
    "text": "predictions = decode(np.argmax(model.predict(encode(x_test), verbose=0), axis=-1))",
}

_DTYPE_CHECK = {
    "class_labels": ('assert predictions.dtype.kind in "iu", "class labels must be integers"\n'
                     'assert predictions.min() >= 0 and predictions.max() < NUM_CLASSES, "labels out of range"'),
    "scores": 'assert predictions.dtype.kind == "f" and np.isfinite(predictions).all(), "finite floats needed"',
    "values": 'assert predictions.dtype.kind == "f" and np.isfinite(predictions).all(), "finite floats needed"',
    "text": 'assert predictions.dtype.kind == "U", "an array of strings is needed: np.array(list_of_strings)"',
}


def _public_names(exam) -> tuple[str, str, str, str]:
    """File names of (train inputs, train labels, val inputs, val labels) in the public folder: the
    validation files exam.toml names, and their "train" twins (val_images.npy -> train_images.npy)."""
    val_x = exam.validation_inputs.name if exam.validation_inputs else "val_inputs.npy"
    val_y = exam.validation_labels.name if exam.validation_labels else "val_labels.npy"
    return val_x.replace("val", "train", 1), val_y.replace("val", "train", 1), val_x, val_y


def student_template(exam) -> nbformat.NotebookNode:
    """The notebook students start from, generated for ``exam`` (a grader.exam.Exam)."""
    spec = exam.predictions
    train_x, train_y, val_x, val_y = _public_names(exam)
    kind = KINDS[spec.kind]
    v4 = nbformat.v4
    direction = "higher" if exam.higher_is_better else "lower"
    budget = f" with at most {exam.limits.max_parameters:,} parameters" if exam.limits.max_parameters else ""
    train = "if not GRADING:" if exam.mode == "weights" else "if True:  # retrain mode: the grader trains too"
    cells = [
        v4.new_markdown_cell(f"# {exam.title}\n\n{exam.task}\n\n"
                             f"**How it is graded.** {exam.grading.objective_weight:.0%} of the grade compares "
                             f"your {exam.metric_display} ({direction} is better) on a hidden test set with the "
                             f"rest of the class; {exam.grading.quality_weight:.0%} rates how well this notebook "
                             "explains the problem, the data, your choices, the training and the results. "
                             f"Predictions: {kind.describe} per test input"
                             + (f", shape {tuple(spec.shape)} each" if spec.shape else "") + f"; a model{budget}."
                             "\n\nReplace the text of this template with your own: copied text earns nothing."),
        v4.new_code_cell(
            "# The grader replaces these values when it runs your notebook (GRADING = True).\n"
            "GRADING = False\nDATA_DIR = \"data/public\"\n"
            f"TEST_INPUTS = \"data/public/{val_x}\"  # the validation inputs, on your machine\n"
            f"PREDICTIONS_PATH = \"predictions.npy\"\nMODEL_PATH = \"{exam.limits.model_file}\"\n"
            f"KERAS_BACKEND = \"{exam.backends[0]}\"\nEPOCHS = 5",
            metadata={"tags": ["parameters"]}),
        v4.new_code_cell(
            "import os\n\nos.environ.setdefault(\"KERAS_BACKEND\", KERAS_BACKEND)\n\n"
            "import keras\nimport numpy as np\n\n"
            f"SHAPE = {tuple(spec.shape)!r}  # of one prediction (the exam's predictions.shape)\n"
            f"NUM_CLASSES = {spec.num_classes!r}\nkeras.utils.set_random_seed(0)\nprint('Keras', keras.__version__, "
            "keras.backend.backend())"),
        v4.new_markdown_cell("## The data\n\nDescribe the data here: what one input and one target are, their "
                             "ranges, and what you see in the examples."),
        v4.new_code_cell(
            f"x_train = np.load(os.path.join(DATA_DIR, \"{train_x}\"))\n"
            f"y_train = np.load(os.path.join(DATA_DIR, \"{train_y}\"))\n"
            f"x_val = np.load(os.path.join(DATA_DIR, \"{val_x}\"))\n"
            f"y_val = np.load(os.path.join(DATA_DIR, \"{val_y}\"))\n"
            "print(x_train.shape, y_train.shape, x_val.shape, y_val.shape)"),
        v4.new_markdown_cell("## The model\n\nA baseline that fits the task's format. Explain and motivate your "
                             "own architecture here."),
        v4.new_code_cell(_MODEL[spec.kind] + "\nmodel.summary()"),
        v4.new_markdown_cell("## Training\n\nTraining runs on your machine; the grader only loads the saved "
                             "model (GRADING = True)." if exam.mode == "weights" else "## Training"),
        v4.new_code_cell(f"{train}\n    history = {_FIT[spec.kind]}\n    model.save(MODEL_PATH)"),
        v4.new_markdown_cell("## Predictions in the format the exam requires\n\nThe self-check below compares "
                             "shape and dtype with what the grader expects; keep it."),
        v4.new_code_cell(
            ("if GRADING:\n    model = keras.saving.load_model(MODEL_PATH)\n" if exam.mode == "weights" else "")
            + "x_test = np.load(TEST_INPUTS)\n" + _PREDICT[spec.kind] + "\n"
            "assert predictions.shape == (len(x_test), *SHAPE), "
            "f\"predictions have shape {predictions.shape}, the exam expects {(len(x_test), *SHAPE)}\"\n"
            + _DTYPE_CHECK[spec.kind] + "\nnp.save(PREDICTIONS_PATH, predictions)\n"
            "print(\"saved\", predictions.shape, predictions.dtype, \"to\", PREDICTIONS_PATH)"),
        v4.new_markdown_cell(f"## Evaluation and discussion\n\nMeasure the {exam.metric_display} on the "
                             "validation split, look at the errors, and discuss limits and possible "
                             "improvements."),
    ]
    nb = v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb
