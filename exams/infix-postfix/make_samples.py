#!/usr/bin/env python3
"""Write (and train) the sample submissions of the infix-postfix exam.

Each student of ``sample_submissions/<student>/`` gets a notebook ``<student>.ipynb`` (the exam's
parameters cell, the student's own prose and code, the prediction cell) and the ``model.keras`` that
notebook saves. The notebook is executed as the student would run it (``GRADING = False``: explore,
train for under a minute on a CPU, save the model, translate the validation split) in a scratch
folder where ``data/public`` is the public data; the executed notebook (with its outputs) and the
model file are then copied into the student's folder. Each student exercises one outcome:

- ``ines_attention``   GRU encoder-decoder with attention (~33k parameters), greedy
                       autoregressive decoding, thorough notebook                    -> graded, best
- ``jonas_gru``        GRU encoder-decoder without attention (~114k), 3 epochs        -> graded, weak
- ``kim_copy``         no working model: writes the infix tokens separated by spaces
                       (the untrained model.keras handed in because it is required)  -> graded, 0 points
- ``leo_bytes``        decodes with tf.strings: saves an object array of bytes       -> malformed predictions
- ``maya_codepoints``  Embedding(100000, 20) over Unicode code points: 2.02M
                       parameters, over the budget of 2,000,000                      -> rule broken

``--check`` grades the samples with the real grader (``grader grade``) into a scratch folder and
prints the grades table.

Without ``--force`` a student whose model exists is not rerun: the notebook's text is refreshed and
the outputs of the last run are kept (as long as its code did not change).

Usage: python make_samples.py [--only NAME ...] [--no-train] [--force] [--check]
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SAMPLES = HERE / "sample_submissions"
DATA = HERE / "data"

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.pop("MPLBACKEND", None)  # the students' kernels draw inline: their notebooks keep the plots
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"

md = nbformat.v4.new_markdown_cell
code = nbformat.v4.new_code_cell


# ----------------------------------------------------------------------------- shared cells

TASK = """\
## The task

Translate formulas from infix notation (`"(a+b)*c"`: variables `a`-`e`, operators `+ - * /`,
parentheses, no spaces) into postfix notation with the tokens separated by one space
(`"a b + c *"`). The model must **decode autoregressively**: it produces the postfix tokens one at
a time, each prediction fed back as the next input. The score is the share of formulas translated
exactly, averaged over 10 hidden test sets of 200 formulas; the model may have at most 2,000,000
parameters, and up to 2 bonus points go to small models (all of them at 50,000 parameters or fewer).
When graded (`GRADING = True`) the notebook only loads `model.keras`, translates `TEST_INPUTS` and
saves one string per formula."""


def title(name: str, student_id: str) -> nbformat.NotebookNode:
    return md(f"# Exam project · From infix to postfix\n\n"
              f"**Name:** {name}  **Student id:** {student_id}\n\n{TASK}")


def parameters_cell(epochs: int) -> nbformat.NotebookNode:
    return code(
        'GRADING = False  # True when the grader runs the notebook: no training, only load + translate\n'
        'DATA_DIR = "data/public"  # folder of the public data\n'
        'TEST_INPUTS = "data/public/val_inputs.npy"  # formulas to translate; the grader passes the hidden ones\n'
        'PREDICTIONS_PATH = "predictions.npy"  # where the postfix strings are saved\n'
        'MODEL_PATH = "model.keras"  # the model file handed in\n'
        f'EPOCHS = {epochs}  # mine (the grader never trains)',
        metadata={"tags": ["parameters"]})


SETUP = '''\
import os
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import matplotlib.pyplot as plt
import numpy as np

keras.utils.set_random_seed(42)  # Python, NumPy and TensorFlow seeds at once
print(f"Keras {keras.__version__} | GRADING = {GRADING}")'''

LOAD_DATA = '''\
if not GRADING:
    x_train = np.load(os.path.join(DATA_DIR, "train_inputs.npy"))
    y_train = np.load(os.path.join(DATA_DIR, "train_labels.npy"))
    x_val = np.load(os.path.join(DATA_DIR, "val_inputs.npy"))
    y_val = np.load(os.path.join(DATA_DIR, "val_labels.npy"))
    print(f"train {x_train.shape} {x_train.dtype} | val {x_val.shape}")
    for formula, target in zip(x_train[:5], y_train[:5]):
        print(f"  {formula:28} -> {target}")'''

EXPLORE = '''\
if not GRADING:
    in_lengths = np.array([len(s) for s in x_train])
    out_lengths = np.array([len(s.split()) for s in y_train])
    operators = np.array([sum(ch in "+-*/" for ch in s) for s in x_train])
    print(f"input characters: max {in_lengths.max()}, mean {in_lengths.mean():.1f}")
    print(f"output tokens:    max {out_lengths.max()}, mean {out_lengths.mean():.1f}")
    counts = np.unique(operators, return_counts=True)\n    print("formulas per number of operators:", {int(k): int(n) for k, n in zip(*counts)})
    print("characters used:", "".join(sorted(set("".join(x_train)))))
    fig, axes = plt.subplots(1, 2, figsize=(9, 3))
    axes[0].hist(in_lengths, bins=range(1, 28))
    axes[0].set_title("infix length (characters)")
    axes[1].hist(out_lengths, bins=range(1, 18))
    axes[1].set_title("postfix length (tokens)")
    plt.show()'''

# Character-level vocabularies; they run in the grader's run too (the decoding needs them).
VOCAB = '''\
INPUT_CHARS = "abcde+-*/()"  # input ids 1..11, 0 = padding
OUTPUT_TOKENS = ["<pad>", "<start>", "<end>", *"abcde+-*/"]  # output ids
PAD, START, END = 0, 1, 2
MAX_IN = 32  # the longest formula has 25 characters
MAX_OUT = 16  # decoder steps: <start> + up to 15 tokens (the <end> is predicted at the last step)
CHAR_ID = {ch: i + 1 for i, ch in enumerate(INPUT_CHARS)}
TOKEN_ID = {tok: i for i, tok in enumerate(OUTPUT_TOKENS)}


def encode_inputs(formulas) -> np.ndarray:
    """Infix strings -> (n, MAX_IN) character ids, padded with 0."""
    ids = np.zeros((len(formulas), MAX_IN), dtype="int32")
    for row, formula in enumerate(formulas):
        chars = [CHAR_ID[ch] for ch in formula if ch in CHAR_ID][:MAX_IN]  # spaces ignored
        ids[row, :len(chars)] = chars
    return ids


def encode_targets(postfixes) -> np.ndarray:
    """Postfix strings -> (n, MAX_OUT + 1) token ids: <start> tokens <end>, padded with 0."""
    ids = np.zeros((len(postfixes), MAX_OUT + 1), dtype="int32")
    for row, text in enumerate(postfixes):
        tokens = [START, *(TOKEN_ID[t] for t in text.split()), END]
        ids[row, :len(tokens)] = tokens
    return ids


def ids_to_text(ids) -> str:
    """Token ids (after <start>) -> "a b +", stopping at the first <end> or padding."""
    tokens = []
    for i in ids:
        if i in (END, PAD):
            break
        tokens.append(OUTPUT_TOKENS[i] if i > END else "?")
    return " ".join(tokens)'''

GREEDY = '''\
def translate(model, formulas, batch_size=500) -> list[str]:
    """Greedy autoregressive decoding: each predicted token is fed back as the next decoder input."""
    x = encode_inputs(formulas)
    out = np.zeros((len(x), MAX_OUT + 1), dtype="int32")
    out[:, 0] = START
    for t in range(MAX_OUT):
        probs = model.predict([x, out[:, :MAX_OUT]], batch_size=batch_size, verbose=0)
        out[:, t + 1] = probs[:, t].argmax(axis=-1)  # the most likely next token
        if (out[:, 1:t + 2] == END).any(axis=1).all():  # every formula has ended
            break
    return [ids_to_text(row[1:]) for row in out]'''

PLOT_CURVES = '''\
if not GRADING:
    fig, axes = plt.subplots(1, 2, figsize=(9, 3))
    axes[0].plot(history.history["loss"], label="training")
    axes[0].plot(history.history["val_loss"], label="validation")
    axes[0].set_title("loss (cross-entropy per token)")
    axes[1].plot(history.history["accuracy"], label="training")
    axes[1].plot(history.history["val_accuracy"], label="validation")
    axes[1].set_title("next-token accuracy (teacher forcing)")
    for ax in axes:
        ax.set_xlabel("epoch")
        ax.legend()
    plt.show()'''

PREDICT = '''\
model = keras.models.load_model(MODEL_PATH)
test_formulas = np.load(TEST_INPUTS)  # 1-D array of infix strings
started = time.perf_counter()
predictions = np.array(translate(model, test_formulas), dtype=str)  # one postfix string per formula
np.save(PREDICTIONS_PATH, predictions)
print(f"translated {len(predictions)} formulas in {time.perf_counter() - started:.1f} s; first: "
      f"{test_formulas[0]} -> {predictions[0]}")'''

SELF_CHECK = '''\
saved = np.load(PREDICTIONS_PATH)  # must load without allow_pickle
assert saved.shape == (len(test_formulas),) and saved.dtype.kind == "U", f"self-check failed: {saved.shape} {saved.dtype}"
if not GRADING:  # TEST_INPUTS is the validation split: the grader's measure, on data I have
    print(f"self-check passed; validation exact match {np.mean(saved == y_val):.3f}")'''


def seq2seq(units: int, attention: bool, embedding: str) -> str:
    """The model-building code of an encoder-decoder (as a student would write it)."""
    lines = [
        'def build_model() -> keras.Model:',
        f'    """Encoder-decoder of GRUs ({units} units){", with dot-product attention" if attention else ""}."""',
        '    L = keras.layers',
        '    formula = keras.Input(shape=(MAX_IN,), dtype="int32", name="formula")',
        '    previous = keras.Input(shape=(MAX_OUT,), dtype="int32", name="previous_tokens")',
        f'    x = {embedding}(formula)  # padding (0) masked',
    ]
    if attention:
        lines += [
            f'    states, summary = L.GRU({units}, return_sequences=True, return_state=True)(x)  # one vector per character',
            '    y = L.Embedding(len(OUTPUT_TOKENS), 16)(previous)',
            f'    y = L.GRU({units}, return_sequences=True)(y, initial_state=summary)  # causal: sees only earlier tokens',
            '    context = L.Attention()([y, states])  # which characters matter for the next token',
            '    y = L.Concatenate()([y, context])',
        ]
    else:
        lines += [
            f'    summary = L.GRU({units})(x)  # the whole formula in one vector',
            '    y = L.Embedding(len(OUTPUT_TOKENS), 16)(previous)',
            f'    y = L.GRU({units}, return_sequences=True)(y, initial_state=summary)  # causal: sees only earlier tokens',
        ]
    lines += [
        '    next_token = L.Dense(len(OUTPUT_TOKENS), activation="softmax")(y)',
        '    return keras.Model([formula, previous], next_token)',
        '',
        '',
        'if not GRADING:',
        '    model = build_model()',
        '    model.summary()',
        '    print(f"parameters: {model.count_params():,} (budget 2,000,000)")',
    ]
    return "\n".join(lines)


def fit_cell(optimizer: str, batch_size: int, callbacks: bool = False) -> str:
    return (
        'if not GRADING:\n'
        '    x_enc, y_enc = encode_inputs(x_train), encode_targets(y_train)\n'
        '    xv_enc, yv_enc = encode_inputs(x_val), encode_targets(y_val)\n'
        f'    model.compile(optimizer={optimizer}, loss="sparse_categorical_crossentropy", metrics=["accuracy"])\n'
        + ('    stop = keras.callbacks.EarlyStopping(patience=2, restore_best_weights=True)\n' if callbacks else '')
        + '    started = time.perf_counter()\n'
        '    # teacher forcing: the decoder reads the true previous tokens, predicts the next ones\n'
        '    history = model.fit([x_enc, y_enc[:, :-1]], y_enc[:, 1:], epochs=EPOCHS, batch_size='
        f'{batch_size},\n'
        '                        validation_data=([xv_enc, yv_enc[:, :-1]], yv_enc[:, 1:]),'
        + (' callbacks=[stop],' if callbacks else '') + ' verbose=2)\n'
        '    print(f"trained in {time.perf_counter() - started:.0f} s")\n'
        '    model.save(MODEL_PATH)\n'
        '    print(f"saved {MODEL_PATH} ({os.path.getsize(MODEL_PATH) / 1e6:.2f} MB)")')


# ----------------------------------------------------------------------------- the students

def ines():
    """Attention seq2seq, every section written, an error analysis; the best and the smallest."""
    return [
        title("Ines Moreau", "s3001"),
        parameters_cell(epochs=6),
        md("## Setup"),
        code(SETUP),
        md("## 1. Problem statement\n\n"
           "The input is a formula in the usual **infix** notation, a string of single characters "
           "(variables `a`–`e`, the four operators, parentheses); the output is the same formula in "
           "**postfix** notation, a sequence of tokens separated by spaces. It is a "
           "**sequence-to-sequence** translation problem: input and output have different lengths "
           "(the parentheses disappear) and a different order (each operator moves after its two "
           "operands), so a model that labels each input character is not enough.\n\n"
           "- **Metric:** the share of formulas translated **exactly** (one wrong token and the "
           "whole formula counts as wrong), averaged over 10 hidden test sets of 200 formulas; the "
           "spread over the 10 sets tells how much luck is in a single number.\n"
           "- **Rules:** autoregressive decoding (one token at a time, fed back), at most 2M "
           "parameters, and a bonus for small models: full at 50k parameters or fewer, so I aim "
           "for a model under 50k.\n"
           "- **Reference point:** writing the infix tokens in their order scores 0 (no formula has "
           "the same infix and postfix order). The translation is a deterministic function "
           "(Dijkstra's shunting-yard algorithm), so a perfect score is possible in principle."),
        md("## 2. Data exploration"),
        code(LOAD_DATA),
        code(EXPLORE),
        md("**Observations.**\n\n"
           "- 20,000 training and 2,000 validation pairs. Formulas have 1 to 7 operators; most "
           "have 3 to 6, and inputs are at most 25 characters, outputs at most 15 tokens: short "
           "sequences, so a recurrent network is fast enough on a CPU.\n"
           "- Only 11 distinct input characters and 9 output tokens: a **character-level** "
           "vocabulary is natural; no tokenizer is needed.\n"
           "- The parentheses carry the structure: `a-(b-c)` and `a-b-c` differ only by them, and "
           "their postfix differ (`a b c - -` vs `a b - c -`). The model must keep track of the "
           "nesting, which is the hard part.\n"
           "- The variables are copied in the **same order** from input to output; only the "
           "operators move. A model that can look back at the input (attention) should find the "
           "variables easily."),
        md("## 3. The model\n\n"
           "Character ids (below) feed an **encoder-decoder of GRUs with attention**:\n\n"
           "- The **encoder** embeds each character (16 dimensions) and reads the formula with a "
           "GRU of 64 units, keeping one state per character.\n"
           "- The **decoder** is a GRU of 64 units started from the encoder's final state; at each "
           "step it reads the previous output token and predicts the next one (softmax over the 12 "
           "output tokens). Because it only sees earlier tokens, the same model serves for training "
           "(teacher forcing) and for **autoregressive** decoding.\n"
           "- **Dot-product attention** lets each decoder step look at the encoder states of all "
           "characters. I chose it because the variables must be copied in order, and a single "
           "summary vector has to remember the whole formula: in a first try without attention "
           "(128 units, 3 times more parameters) the exact match stayed far lower after the same time.\n"
           "- About 33k parameters, under the 50k where the bonus is full; a GRU rather than an "
           "LSTM since it has fewer parameters for the same width."),
        code(VOCAB),
        code(seq2seq(64, attention=True,
                     embedding='L.Embedding(len(INPUT_CHARS) + 1, 16, mask_zero=True)')),
        md("## 4. Training\n\n"
           "- **Teacher forcing:** the decoder input is `<start>` + the true postfix tokens, the "
           "target the same tokens shifted by one, then `<end>`. Loss: sparse categorical "
           "cross-entropy per token.\n"
           "- **Optimizer:** Adam, learning rate 3e-3 (higher than the default since the model is "
           "small), batches of 128, 6 epochs (about a minute on my laptop), `EarlyStopping` on the "
           "validation loss with the best weights restored.\n"
           "- Padding positions after `<end>` are in the loss too: they are trivial (always "
           "`<pad>`), so the token accuracy below is optimistic; what counts is the exact match "
           "after decoding, measured in part 5."),
        code(fit_cell("keras.optimizers.Adam(3e-3)", 128, callbacks=True)),
        code(PLOT_CURVES),
        md("**Learning curves.** The loss drops sharply in the first two epochs (the model learns to "
           "copy the variables, then where the operators go) and the validation curve follows the "
           "training one closely: no overfitting, which is expected since the formulas are random "
           "and there is nothing to memorize. Later epochs bring small gains on the rare long "
           "formulas."),
        md("## 5. Evaluation and discussion\n\n"
           "Greedy decoding, exactly as the grader runs it: the model predicts the first token from "
           "`<start>`, its prediction is appended and fed back, and so on until `<end>`."),
        code(GREEDY),
        code('if not GRADING:\n'
             '    saved_model = keras.models.load_model(MODEL_PATH)  # exactly the file I hand in\n'
             '    val_pred = np.array(translate(saved_model, x_val))\n'
             '    correct = val_pred == y_val\n'
             '    print(f"validation exact match: {correct.mean():.4f}")\n'
             '    # error analysis: accuracy by number of operators, and the mistakes themselves\n'
             '    ops = np.array([sum(ch in "+-*/" for ch in s) for s in x_val])\n'
             '    for k in np.unique(ops):\n'
             '        print(f"  {k} operators: {correct[ops == k].mean():.3f} ({(ops == k).sum()} formulas)")\n'
             '    for i in np.flatnonzero(~correct)[:8]:\n'
             '        print(f"  {x_val[i]:26} true {y_val[i]:30} predicted {val_pred[i]}")'),
        md("**Discussion.**\n\n"
           "- Almost every validation formula is translated exactly; the rare errors are on "
           "formulas with a parenthesized group, where an operator is emitted one step too early "
           "or too late: the model has to count open parentheses, which a GRU of 64 units does "
           "only approximately.\n"
           "- The hidden test sets come from the same generator, so I expect the same accuracy, "
           "with a small spread over the 10 sets (one error moves a set of 200 formulas by half "
           "a point).\n"
           "- **Limits and improvements:** greedy decoding cannot recover from a wrong token; a "
           "beam search, or a constraint that the output has as many variables as the input, "
           "would fix some of the remaining errors. Training longer, or on more generated "
           "formulas, could remove them; a small transformer could also work, but it would be "
           "harder to keep under 50k parameters."),
        md("## Predictions for the grader"),
        code(PREDICT),
        md("## Self-check"),
        code(SELF_CHECK),
    ]


def jonas():
    """Plain encoder-decoder (no attention), 3 epochs: weak; short notebook."""
    return [
        title("Jonas Berg", "s3002"),
        parameters_cell(epochs=3),
        md("## Setup"),
        code(SETUP),
        md("## 1. Problem\n\n"
           "Translate infix formulas into postfix. It is a sequence-to-sequence task, evaluated by "
           "exact match on hidden formulas."),
        md("## 2. Data"),
        code(LOAD_DATA),
        md("The formulas are short (at most 25 characters)."),
        md("## 3. Model\n\n"
           "A classic seq2seq: a GRU encoder compresses the formula into one vector, a GRU decoder "
           "generates the postfix tokens from it. 128 units because the vector must hold the "
           "whole formula."),
        code(VOCAB),
        code(seq2seq(128, attention=False,
                     embedding='L.Embedding(len(INPUT_CHARS) + 1, 16, mask_zero=True)')),
        md("## 4. Training\n\nAdam, 3 epochs, teacher forcing."),
        code(fit_cell("keras.optimizers.Adam(3e-3)", 128)),
        code(PLOT_CURVES),
        md("## 5. Evaluation"),
        code(GREEDY),
        code('if not GRADING:\n'
             '    val_pred = np.array(translate(model, x_val))\n'
             '    print(f"validation exact match: {np.mean(val_pred == y_val):.3f}")'),
        md("The model still makes many mistakes on long formulas. More epochs would help."),
        md("## Predictions for the grader"),
        code(PREDICT),
        code(SELF_CHECK),
    ]


def kim():
    """No working model: the fallback copies the infix tokens (valid format, 0 exact matches)."""
    return [
        title("Kim Park", "s3003"),
        parameters_cell(epochs=0),
        md("## Setup"),
        code(SETUP),
        md("## 1. Problem statement\n\n"
           "The input is an infix formula such as `(a+b)*c`, the output its postfix form "
           "`a b + c *`. The grade is the exact-match accuracy on hidden formulas. I start with a "
           "**baseline** that needs no learning: write the infix characters separated by spaces. "
           "It has the right format, so it shows whether the prediction pipeline works, and its "
           "score is the floor any model must beat."),
        md("## 2. Data exploration"),
        code(LOAD_DATA),
        code(EXPLORE),
        md("Inputs have up to 25 characters and outputs up to 15 tokens. The variables keep their "
           "order; the operators move after their operands and the parentheses disappear."),
        md("## 3. The model\n\n"
           "I started an encoder-decoder (GRU of 32 units) but ran out of time before training it. "
           "The exam needs a `model.keras`, so I hand in the untrained model; the predictions come "
           "from the baseline below."),
        code(VOCAB),
        code(seq2seq(32, attention=False,
                     embedding='L.Embedding(len(INPUT_CHARS) + 1, 8, mask_zero=True)')
             + '\n    model.save(MODEL_PATH)  # untrained: required by the exam'),
        md("## 4. Baseline\n\n"
           "The infix tokens in their order, separated by spaces (parentheses kept)."),
        code('def baseline(formulas) -> list[str]:\n'
             '    """Infix characters separated by spaces: the right format, the wrong order."""\n'
             '    return [" ".join(formula) for formula in formulas]\n'
             '\n'
             '\n'
             'if not GRADING:\n'
             '    guess = np.array(baseline(x_val))\n'
             '    print(f"exact match {np.mean(guess == y_val):.3f}")\n'
             '    # token accuracy: how many positions hold the right token\n'
             '    same = [np.mean([a == b for a, b in zip(g.split(), t.split())]) for g, t in zip(guess, y_val)]\n'
             '    print(f"token accuracy {np.mean(same):.3f}")'),
        md("## 5. Evaluation\n\n"
           "The exact match is 0: no formula keeps its order in postfix. About a fifth of the tokens "
           "are at the right position by chance (mostly the first variable). The next step would be to "
           "train the encoder-decoder; I could not finish it."),
        md("## Predictions for the grader"),
        code('model = keras.models.load_model(MODEL_PATH)  # loaded as the exam asks, not used\n'
             'test_formulas = np.load(TEST_INPUTS)\n'
             'predictions = np.array(baseline(test_formulas), dtype=str)\n'
             'np.save(PREDICTIONS_PATH, predictions)\n'
             'print(f"saved {predictions.shape} to {PREDICTIONS_PATH}")'),
        code(SELF_CHECK),
    ]


def leo():
    """A good attention model, but the tf.strings decoding saves an object array of bytes."""
    predict = '''\
import tensorflow as tf

model = keras.models.load_model(MODEL_PATH)
test_formulas = np.load(TEST_INPUTS)
# token ids -> strings in TensorFlow: <pad>, <start> and <end> become empty strings
TOKEN_STRINGS = tf.constant(["", "", "", *OUTPUT_TOKENS[3:]])


def translate_tf(model, formulas):
    x = encode_inputs(formulas)
    out = np.zeros((len(x), MAX_OUT + 1), dtype="int32")
    out[:, 0] = START
    for t in range(MAX_OUT):
        out[:, t + 1] = model.predict([x, out[:, :MAX_OUT]], batch_size=500, verbose=0)[:, t].argmax(-1)
    ended = np.cumsum(out[:, 1:] == END, axis=1) > 0  # everything from the first <end> on
    ids = np.where(ended, PAD, out[:, 1:])
    words = tf.gather(TOKEN_STRINGS, ids)
    return tf.strings.strip(tf.strings.reduce_join(words, axis=1, separator=" ")).numpy()


predictions = translate_tf(model, test_formulas)
np.save(PREDICTIONS_PATH, predictions)
print(f"saved {predictions.shape} to {PREDICTIONS_PATH}")'''
    return [
        title("Leo Fischer", "s3004"),
        parameters_cell(epochs=4),
        md("## Setup"),
        code(SETUP),
        md("## 1. Problem statement\n\n"
           "We translate infix formulas into postfix notation, token by token. The exact-match "
           "accuracy on hidden formulas is the metric, so every token must be right. A model "
           "with few parameters also earns a bonus."),
        md("## 2. Data exploration"),
        code(LOAD_DATA),
        code(EXPLORE),
        md("The formulas are short and use 11 characters. Most have 3 to 6 operators. The "
           "variables stay in order and only the operators move, so attention should help to copy "
           "the variables."),
        md("## 3. The model\n\n"
           "An encoder-decoder with GRUs of 48 units and dot-product attention, because attention "
           "lets the decoder look at each input character instead of one summary vector. It has "
           "about 21k parameters, well under the 50k of the full bonus."),
        code(VOCAB),
        code(seq2seq(48, attention=True,
                     embedding='L.Embedding(len(INPUT_CHARS) + 1, 16, mask_zero=True)')),
        md("## 4. Training\n\nTeacher forcing, Adam 3e-3, 4 epochs, batches of 128."),
        code(fit_cell("keras.optimizers.Adam(3e-3)", 128)),
        code(PLOT_CURVES),
        md("The validation loss follows the training loss: no overfitting."),
        md("## 5. Predictions\n\n"
           "I decode greedily and turn the token ids into strings with TensorFlow's string ops, "
           "which is faster than a Python loop."),
        code(predict),
        code('saved = np.load(PREDICTIONS_PATH, allow_pickle=True)\n'
             'if not GRADING:\n'
             '    texts = np.array([s.decode() for s in saved])\n'
             '    print(f"validation exact match: {np.mean(texts == y_val):.3f}")'),
        md("Most validation formulas are translated exactly; the errors are on the longest ones."),
    ]


def maya():
    """Unicode code points as ids: Embedding(100000, 20) alone is 2M parameters, over the budget."""
    vocab = VOCAB.replace('  # input ids 1..11, 0 = padding', '  # the characters a formula uses').replace(
        'CHAR_ID = {ch: i + 1 for i, ch in enumerate(INPUT_CHARS)}\n',
        'CHAR_ID = {ch: ord(ch) for ch in INPUT_CHARS}  # Unicode code points: no vocabulary to maintain\n'
        'CODE_POINTS = 100_000  # any character a formula could contain\n')
    return [
        title("Maya Cohen", "s3005"),
        parameters_cell(epochs=4),
        md("## Setup"),
        code(SETUP),
        md("## 1. Problem statement\n\n"
           "Infix to postfix translation with a neural network, decoded token by token, measured by "
           "the exact match on hidden test formulas."),
        md("## 2. Data exploration"),
        code(LOAD_DATA),
        code(EXPLORE),
        md("Formulas of up to 25 characters, outputs of up to 15 tokens."),
        md("## 3. The model\n\n"
           "To avoid building a vocabulary I use the Unicode **code point** of each character "
           "(`ord`) as its id, so the model accepts any character. The embedding therefore has "
           "100,000 rows of 20 dimensions. Then an encoder-decoder of GRUs (48 units) with "
           "attention."),
        code(vocab),
        code(seq2seq(48, attention=True, embedding='L.Embedding(CODE_POINTS, 20, mask_zero=True)')),
        md("## 4. Training\n\n"
           "Plain SGD (learning rate 0.5), 4 epochs, batches of 64, teacher forcing."),
        code(fit_cell("keras.optimizers.SGD(0.5)", 64)),
        code(PLOT_CURVES),
        md("## 5. Evaluation"),
        code(GREEDY),
        code('if not GRADING:\n'
             '    val_pred = np.array(translate(model, x_val))\n'
             '    print(f"validation exact match: {np.mean(val_pred == y_val):.3f}")'),
        md("SGD learns slowly; Adam would probably be better."),
        md("## Predictions for the grader"),
        code(PREDICT),
        code(SELF_CHECK),
    ]


STUDENTS = {"ines_attention": ines, "jonas_gru": jonas, "kim_copy": kim, "leo_bytes": leo,
            "maya_codepoints": maya}


# ----------------------------------------------------------------------------- build and run

def new_notebook(cells) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python",
                                 "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    for cell in nb.cells:  # stable files: no random cell ids from run to run
        cell.pop("id", None)
    nb.nbformat_minor = 4
    return nb


def public_workdir(root: Path) -> Path:
    """A scratch folder where the notebooks' default DATA_DIR ("data/public") is the public data."""
    (root / "data").mkdir(parents=True, exist_ok=True)
    link = root / "data" / "public"
    if not link.exists():
        link.symlink_to(DATA / "public", target_is_directory=True)
    return root


def run_student(name: str, nb: nbformat.NotebookNode) -> tuple[nbformat.NotebookNode, Path, float]:
    """Execute the notebook as the student did (GRADING = False); return it, its model, seconds."""
    from nbclient import NotebookClient

    work = public_workdir(Path(tempfile.mkdtemp(prefix=f"sample-{name}-")))
    started = time.perf_counter()
    NotebookClient(nb, timeout=1800, kernel_name="python3",
                   resources={"metadata": {"path": str(work)}}).execute()
    return nb, work / "model.keras", time.perf_counter() - started


def write_student(name: str, train: bool, force: bool) -> None:
    folder = SAMPLES / name
    folder.mkdir(parents=True, exist_ok=True)
    nb = new_notebook(STUDENTS[name]())
    target = folder / f"{name}.ipynb"
    if train and (force or not (folder / "model.keras").is_file()):
        print(f"{name}: running the notebook (trains the model) ...", flush=True)
        nb, model, seconds = run_student(name, nb)
        for cell in nb.cells:
            cell.pop("id", None)
        shutil.copyfile(model, folder / "model.keras")
        print(f"{name}: done in {seconds:.0f} s, model {model.stat().st_size / 1e6:.2f} MB", flush=True)
        shutil.rmtree(model.parent, ignore_errors=True)
    elif target.is_file() and (folder / "model.keras").is_file():
        # Prose edits need no retraining: keep the outputs of the run when the code is unchanged.
        old = [c for c in nbformat.read(target, as_version=4).cells if c.cell_type == "code"]
        new = [c for c in nb.cells if c.cell_type == "code"]
        if [c.source for c in old] != [c.source for c in new]:
            print(f"{name}: the code changed since the model was trained: rerun with --force")
            return
        for before, after in zip(old, new):
            after.outputs, after.execution_count = before.get("outputs", []), before.get("execution_count")
        print(f"{name}: model present (--force retrains); text refreshed, outputs of the last run kept")
    nbformat.write(nb, target)


def check(names: list[str]) -> int:
    """Grade the samples with the real grader, in a scratch copy; print one line per student."""
    sys.path.insert(0, str(REPO))
    from grader.cli import main as grader_main

    scratch = Path(tempfile.mkdtemp(prefix="infix-postfix-check-"))
    for name in names:
        shutil.copytree(SAMPLES / name, scratch / "submissions" / name)
    started = time.perf_counter()
    code_ = grader_main(["grade", str(HERE), str(scratch / "submissions"), "--out", str(scratch / "out"),
                         "--jobs", "2"])
    print(f"grader exit code {code_}, {time.perf_counter() - started:.0f} s, reports in {scratch / 'out'}")
    with open(scratch / "out" / "grades.csv", newline="") as f:
        for row in csv.DictReader(f):
            print(f"{row['student']:16} {row['failure_class'] or 'graded':22} accuracy {row['metric'] or '-':8} "
                  f"± {row['metric_std'] or '-':6} parameters {row['parameters'] or '-':9} "
                  f"bonus {row['parameter_bonus']:5} total {row['total']:6}  {row['message'][:80]}")
    return code_


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", choices=sorted(STUDENTS), help="these students only")
    parser.add_argument("--no-train", action="store_true", help="write the notebooks, do not run them")
    parser.add_argument("--force", action="store_true", help="retrain even when model.keras exists")
    parser.add_argument("--check", action="store_true", help="grade the samples with the grader")
    args = parser.parse_args(argv)
    names = args.only or list(STUDENTS)
    sys.path.insert(0, str(HERE))
    import make_data

    make_data.build(DATA)
    if args.check:
        return check(names)
    for name in names:
        write_student(name, train=not args.no_train, force=args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
