#!/usr/bin/env python3
"""Write (and train) the sample submissions of the source-separation exam.

Each student of ``sample_submissions/<student>/`` gets a notebook ``<student>.ipynb`` (the exam's
parameters cell, the student's own prose and code, the prediction cell) and the ``model.keras`` that
notebook saves. The notebook is executed as the student would run it (``GRADING = False``: explore,
train for well under a minute on a CPU, save the model, predict the validation split) in a scratch
folder where ``data/public`` is the public data; the executed notebook (with its outputs) and the
model file are then copied into the student's folder. Each student exercises one outcome:

- ``ada_unet``          small U-Net (~105k parameters, 5 epochs), thorough notebook  -> graded, best
- ``ben_dense``         784-32-1568 dense network, 3 epochs, thin explanations       -> graded, weak
- ``cleo_stacked``      saves the two images stacked, shape (n, 56, 28)             -> malformed predictions
- ``dario_lambda``      digit = 2 x input - fashion in a ``Lambda`` layer: the saved
                        model cannot be loaded in safe mode when graded               -> exception

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

Every input is the pixel-wise **average of two images**: one Fashion-MNIST garment and one
handwritten digit (28×28, values in [0, 1]). Give back **both sources**: for each input an array
`(2, 28, 28)` ordered `[fashion, digit]`. The score is the **mean squared error** on a hidden test
set of 1,000 mixtures made from images I never see (lower is better). The model takes the mixtures
**as they are**: no preprocessing of the inputs outside the model. When graded (`GRADING = True`)
the notebook only loads `model.keras`, predicts `TEST_INPUTS` and saves the predictions."""


def title(name: str, student_id: str) -> nbformat.NotebookNode:
    return md(f"# Exam project · Blind source separation\n\n"
              f"**Name:** {name}  **Student id:** {student_id}\n\n{TASK}")


def parameters_cell(epochs: int) -> nbformat.NotebookNode:
    return code(
        'GRADING = False  # True when the grader runs the notebook: no training, only load + predict\n'
        'DATA_DIR = "data/public"  # folder of the public data\n'
        'TEST_INPUTS = "data/public/val_inputs.npy"  # mixtures to separate; the grader passes the hidden ones\n'
        'PREDICTIONS_PATH = "predictions.npy"  # where the separated images are saved\n'
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
    y_train = np.load(os.path.join(DATA_DIR, "train_targets.npy"))
    x_val = np.load(os.path.join(DATA_DIR, "val_inputs.npy"))
    y_val = np.load(os.path.join(DATA_DIR, "val_targets.npy"))
    print(f"train {x_train.shape} -> {y_train.shape} | val {x_val.shape} -> {y_val.shape} | {x_train.dtype}")
    print(f"mixture values {x_train.min():.2f}..{x_train.max():.2f}, mean {x_train.mean():.3f}")
    print(f"mean of the fashion sources {y_train[:, 0].mean():.3f}, of the digits {y_train[:, 1].mean():.3f}")'''

SHOW_EXAMPLES = '''\
if not GRADING:
    # One column per example: the mixture, then its two sources.
    fig, axes = plt.subplots(3, 8, figsize=(11, 4.3))
    for j in range(8):
        for row, (image, name) in enumerate([(x_train[j], "mixture"), (y_train[j, 0], "fashion"),
                                             (y_train[j, 1], "digit")]):
            axes[row, j].imshow(image, cmap="gray_r", vmin=0, vmax=1)
            axes[row, j].axis("off")
            if j == 0:
                axes[row, j].set_title(name, fontsize=8, loc="left")
    plt.suptitle("Training mixtures and their two sources")
    plt.show()'''

INPUT_BASELINE = '''\
if not GRADING:
    # Reference points on the validation split: the input itself as both outputs, and the mean images.
    copy_mse = np.mean((np.stack([x_val, x_val], axis=1) - y_val) ** 2)
    mean_mse = np.mean((y_train.mean(axis=0) - y_val) ** 2)
    print(f"MSE of the input as both sources: {copy_mse:.4f} | of the mean training sources: {mean_mse:.4f}")'''

PLOT_CURVES = '''\
if not GRADING:
    plt.figure(figsize=(6, 3.5))
    plt.plot(history.history["loss"], label="training MSE")
    plt.plot(history.history["val_loss"], label="validation MSE")
    plt.xlabel("epoch")
    plt.ylabel("MSE")
    plt.yscale("log")
    plt.legend()
    plt.title("Learning curves")
    plt.show()'''

EVALUATE = '''\
if not GRADING:
    saved = keras.models.load_model(MODEL_PATH)  # exactly the file I hand in
    val_pred = saved.predict(x_val, batch_size=256, verbose=0)
    per_source = np.mean((val_pred - y_val) ** 2, axis=(0, 2, 3))
    print(f"validation MSE {np.mean((val_pred - y_val) ** 2):.5f} "
          f"(fashion {per_source[0]:.5f}, digit {per_source[1]:.5f}; input copied: {copy_mse:.5f})")'''

SHOW_SEPARATION = '''\
if not GRADING:
    # The worst separated validation mixtures, with what the model made of them.
    errors = np.mean((val_pred - y_val) ** 2, axis=(1, 2, 3))
    worst = np.argsort(errors)[-6:]
    fig, axes = plt.subplots(5, 6, figsize=(9, 7.5))
    rows = ["mixture", "true fashion", "predicted fashion", "true digit", "predicted digit"]
    for j, i in enumerate(worst):
        images = [x_val[i], y_val[i, 0], val_pred[i, 0], y_val[i, 1], val_pred[i, 1]]
        for r, image in enumerate(images):
            axes[r, j].imshow(image, cmap="gray_r", vmin=0, vmax=1)
            axes[r, j].axis("off")
        axes[0, j].set_title(f"MSE {errors[i]:.4f}", fontsize=8)
    for r, name in enumerate(rows):
        axes[r, 0].text(-3, 14, name, fontsize=7, ha="right", va="center")
    plt.suptitle("The six worst validation mixtures")
    plt.show()'''

PREDICT = '''\
model = keras.models.load_model(MODEL_PATH)
x_test = np.load(TEST_INPUTS)  # (n, 28, 28) float32 mixtures, given to the model as they are
predictions = model.predict(x_test, batch_size=256, verbose=0)  # (n, 2, 28, 28): [fashion, digit]
np.save(PREDICTIONS_PATH, predictions.astype("float32"))
print(f"saved {predictions.shape} to {PREDICTIONS_PATH}")'''

SELF_CHECK = '''\
saved = np.load(PREDICTIONS_PATH)
assert saved.shape == (len(x_test), 2, 28, 28), f"self-check failed: shape {saved.shape}"
assert np.isfinite(saved).all(), "self-check failed: NaN or infinite values"
if not GRADING:  # TEST_INPUTS is the validation split: the grader's measure, on data I have
    print(f"self-check passed; validation MSE {np.mean((saved - y_val) ** 2):.5f}")'''


# ----------------------------------------------------------------------------- the students

def ada():
    """A small U-Net with a global bottleneck; every section written; the best."""
    return [
        title("Ada Lindqvist", "s2001"),
        parameters_cell(epochs=5),
        md("## Setup"),
        code(SETUP),
        md("## 1. Problem statement\n\n"
           "Each input is one 28×28 image made by averaging a garment and a digit, "
           "`x = (fashion + digit) / 2`. The goal is to **predict both sources** from the mixture "
           "alone: an image-to-image **regression** with two output images. It is *blind* separation "
           "because nothing tells the model which pixel belongs to which source; it has to learn what "
           "garments and digits look like.\n\n"
           "- **Metric:** the mean squared error (MSE) over all pixels of both outputs, on a hidden set "
           "of 1,000 mixtures made from garments and digits that are in none of my files. A hidden "
           "test set is needed because I choose the architecture by looking at the validation MSE, "
           "so the validation score is slightly optimistic.\n"
           "- **Reference points:** answering the mixture itself for both outputs gives an MSE of "
           "about 0.04 (measured below); the mean training images give 0.067. A useful model must be "
           "far below 0.04. Since `x` is an average, the two outputs are tied: "
           "`digit = 2x − fashion` exactly, so any error on one source appears on the other.\n"
           "- **Rule:** the model takes the mixtures as they are (no preprocessing outside the model)."),
        md("## 2. Data exploration"),
        code(LOAD_DATA),
        code(SHOW_EXAMPLES),
        code(INPUT_BASELINE),
        code('if not GRADING:\n'
             '    # Where is each source "on"? The share of pixels above 0.1 tells how much they overlap.\n'
             '    on_fashion = (y_train[:, 0] > 0.1).mean()\n'
             '    on_digit = (y_train[:, 1] > 0.1).mean()\n'
             '    both = ((y_train[:, 0] > 0.1) & (y_train[:, 1] > 0.1)).mean()\n'
             '    print(f"pixels on: fashion {on_fashion:.2f}, digit {on_digit:.2f}, both {both:.2f}")\n'
             '    plt.figure(figsize=(6, 3))\n'
             '    plt.hist(y_train[:500, 0].ravel(), bins=50, alpha=0.6, label="fashion pixels", log=True)\n'
             '    plt.hist(y_train[:500, 1].ravel(), bins=50, alpha=0.6, label="digit pixels", log=True)\n'
             '    plt.legend()\n'
             '    plt.title("Distribution of the source pixel values (log scale)")\n'
             '    plt.show()'),
        md("**Observations.**\n\n"
           "- 10,000 training and 1,000 validation mixtures, `float32` in [0, 1]; the targets are "
           "`(2, 28, 28)` per mixture. The training pools (`train_fashion.npy`, `train_digits.npy`) "
           "would let me mix more pairs; 10,000 were enough for the minute of training I can afford.\n"
           "- The two sources look very different: garments are large, textured, with sharp edges; "
           "the digits (8×8 images upscaled) are smooth, blurry strokes that often fill the whole "
           "frame. That difference of texture is what a model can exploit.\n"
           "- Their supports overlap heavily (the share of pixels where both are on is large), so "
           "the separation cannot be a simple mask: the model must split the *value* of each pixel.\n"
           "- Many fashion pixels are exactly 0 (background) while digit pixels spread over the "
           "whole range: the fashion output is the harder one to get sharp.\n"
           "- The copy baseline is about 0.04 on validation: that is the number to beat."),
        md("## 3. The model\n\n"
           "A small **U-Net**: an encoder of two convolution stages (16 and 32 filters, 3×3, ReLU) "
           "with 2×2 max-pooling (28 → 14 → 7), a bottleneck, and a decoder that upsamples back "
           "to 28×28 and **concatenates the encoder features of the same resolution** (skip "
           "connections). A final 1×1 convolution gives two channels with a sigmoid (the sources are "
           "in [0, 1]), and a `Permute` turns `(28, 28, 2)` into the required `(2, 28, 28)`.\n\n"
           "- I chose convolutions because both sources are recognized by local shapes (strokes, "
           "edges, textures) that can appear anywhere.\n"
           "- The **skip connections** matter because the output must keep the fine detail of the "
           "input: without them the decoder has to rebuild every edge from the 7×7 code, which gave "
           "blurry garments in my first try (an encoder-decoder without skips, MSE ~0.02).\n"
           "- A 3×3 convolution at 7×7 only sees part of the image; which digit is present is a "
           "**global** question, so I added a small dense branch in the bottleneck (flatten → 32 "
           "units → 7×7×8 maps) concatenated to the convolutional features, rather than a deeper "
           "encoder that would cost more training time.\n"
           "- About 105k parameters, a 1.3 MB file (with the optimizer state); no regularization, since the training MSE "
           "and the validation MSE stay together (part 4)."),
        code('def build_model() -> keras.Model:\n'
             '    """U-Net (16, 32 filters) with a dense global branch in the bottleneck; output (2, 28, 28)."""\n'
             '    L = keras.layers\n'
             '    inputs = keras.Input(shape=(28, 28))  # the raw mixture, as the grader gives it\n'
             '    x = L.Reshape((28, 28, 1))(inputs)  # one channel\n'
             '    skip1 = L.Conv2D(16, 3, padding="same", activation="relu")(x)  # 28x28 details\n'
             '    x = L.MaxPooling2D()(skip1)\n'
             '    skip2 = L.Conv2D(32, 3, padding="same", activation="relu")(x)  # 14x14 parts\n'
             '    x = L.MaxPooling2D()(skip2)\n'
             '    x = L.Conv2D(32, 3, padding="same", activation="relu")(x)  # 7x7 code\n'
             '    # Global branch: which garment and which digit, seen over the whole image.\n'
             '    g = L.Dense(32, activation="relu")(L.Flatten()(x))\n'
             '    g = L.Reshape((7, 7, 8))(L.Dense(7 * 7 * 8, activation="relu")(g))\n'
             '    x = L.Concatenate()([x, g])\n'
             '    # Decoder: upsample and reuse the encoder features of the same resolution.\n'
             '    x = L.Concatenate()([L.UpSampling2D()(x), skip2])\n'
             '    x = L.Conv2D(32, 3, padding="same", activation="relu")(x)\n'
             '    x = L.Concatenate()([L.UpSampling2D()(x), skip1])\n'
             '    x = L.Conv2D(16, 3, padding="same", activation="relu")(x)\n'
             '    x = L.Conv2D(2, 1, activation="sigmoid")(x)  # two sources in [0, 1]\n'
             '    outputs = L.Permute((3, 1, 2))(x)  # (28, 28, 2) -> (2, 28, 28): [fashion, digit]\n'
             '    return keras.Model(inputs, outputs, name="ada_unet")\n'
             '\n'
             '\n'
             'if not GRADING:\n'
             '    model = build_model()\n'
             '    model.summary()\n'
             '    print(f"parameters: {model.count_params():,}")'),
        md("## 4. Training\n\n"
           "- **Loss:** the MSE itself, since it is the metric of the exam.\n"
           "- **Optimizer:** Adam, learning rate 1e-3, batches of 64 mixtures.\n"
           "- **Epochs:** 5 (about 50 s on my laptop's CPU). The validation split is only watched; "
           "`EarlyStopping` on the validation loss (best weights restored) would stop a longer "
           "run when it stops improving."),
        code('if not GRADING:\n'
             '    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")\n'
             '    stop = keras.callbacks.EarlyStopping(patience=2, restore_best_weights=True)\n'
             '    started = time.perf_counter()\n'
             '    history = model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=EPOCHS,\n'
             '                        batch_size=64, callbacks=[stop], verbose=2)\n'
             '    print(f"trained in {time.perf_counter() - started:.0f} s")\n'
             '    model.save(MODEL_PATH)\n'
             '    print(f"saved {MODEL_PATH} ({os.path.getsize(MODEL_PATH) / 1e6:.2f} MB)")'),
        code(PLOT_CURVES),
        md("**Learning curves.** Both MSEs fall quickly and stay together: the validation MSE is even "
           "a little below the training MSE of each epoch (the training value is an average over an "
           "epoch during which the model improved). There is no overfitting: the model is "
           "under-trained, and more epochs, or more mixtures generated from the pools, would still "
           "lower the error."),
        md("## 5. Evaluation and discussion\n\n"
           "I reload the saved file (exactly what I hand in) and measure it on the validation split, "
           "per source, then look at the worst cases."),
        code(EVALUATE),
        code(SHOW_SEPARATION),
        md("**Discussion.**\n\n"
           "- The validation MSE is far below the 0.04 of the copy baseline: the digits come out "
           "clean, and most garments are recognizable with their texture.\n"
           "- The errors of the two sources are nearly equal because `digit = 2x − fashion`: "
           "whatever intensity is given to the wrong source is missing from the other.\n"
           "- The worst mixtures are bright garments (pullovers, coats) over a thick digit: where "
           "both sources are bright, the average saturates and the split is ambiguous. The model "
           "then hesitates and leaves ghosts of the digit in the garment.\n"
           "- **Limits and improvements:** a longer training and more generated pairs are the first "
           "things to try; a loss that enforces `fashion + digit = 2x` (predicting only one source) "
           "could remove the inconsistent cases; batch normalization would allow a larger learning "
           "rate. The hidden mixtures use unseen garments *and* unseen digits; since the validation "
           "split does too, I expect a similar MSE on the test set."),
        md("## Predictions for the grader"),
        code(PREDICT),
        md("## Self-check"),
        code(SELF_CHECK),
    ]


def ben():
    """A tiny dense network, three epochs, one-line explanations."""
    return [
        title("Ben Carter", "s2002"),
        parameters_cell(epochs=3),
        code(SETUP),
        md("## Problem\n\nSeparate the two images of the mixture."),
        md("## Data"),
        code(LOAD_DATA),
        md("## Model\n\nA dense network with one hidden layer of 32 units."),
        code('if not GRADING:\n'
             '    model = keras.Sequential([\n'
             '        keras.Input(shape=(28, 28)),\n'
             '        keras.layers.Flatten(),\n'
             '        keras.layers.Dense(32, activation="relu"),\n'
             '        keras.layers.Dense(2 * 28 * 28, activation="sigmoid"),\n'
             '        keras.layers.Reshape((2, 28, 28)),\n'
             '    ])\n'
             '    model.summary()'),
        md("## Training"),
        code('if not GRADING:\n'
             '    model.compile(optimizer="adam", loss="mse")\n'
             '    history = model.fit(x_train, y_train, validation_data=(x_val, y_val),\n'
             '                        epochs=EPOCHS, batch_size=32, verbose=2)\n'
             '    model.save(MODEL_PATH)'),
        md("## Results\n\nThe loss goes down."),
        code(PREDICT),
        code(SELF_CHECK),
    ]


def cleo():
    """An encoder-decoder; saves the two outputs stacked vertically, (n, 56, 28): malformed."""
    return [
        title("Cleo Martins", "s2003"),
        parameters_cell(epochs=4),
        md("## Setup"),
        code(SETUP),
        md("## 1. Problem statement\n\n"
           "The inputs are averages of a garment and a digit and we must recover both images. This is "
           "a regression problem with images as outputs, measured by the mean squared error on a "
           "hidden test set (lower is better). Copying the input for both outputs is the trivial "
           "solution; a model must learn the shapes of garments and digits to do better."),
        md("## 2. Data exploration"),
        code(LOAD_DATA),
        code(SHOW_EXAMPLES),
        code(INPUT_BASELINE),
        md("The digits are blurry and the garments have sharp edges and textures. The values are "
           "already in [0, 1], so no scaling is needed (and preprocessing is not allowed anyway). "
           "Copying the input gives about 0.04."),
        md("## 3. The model\n\n"
           "A convolutional **encoder-decoder**: two convolution + pooling stages compress the "
           "mixture to 7×7×32 (then 16 maps), a dense layer of 64 units mixes the whole image (because the identity "
           "of the digit is global), then two upsampling + convolution stages rebuild two 28×28 "
           "channels with a sigmoid. I chose this rather than a dense network because convolutions "
           "keep the spatial structure with few weights."),
        code('def build_model() -> keras.Model:\n'
             '    L = keras.layers\n'
             '    return keras.Sequential([\n'
             '        keras.Input(shape=(28, 28)),\n'
             '        L.Reshape((28, 28, 1)),\n'
             '        L.Conv2D(16, 3, padding="same", activation="relu"),\n'
             '        L.MaxPooling2D(),  # 14x14\n'
             '        L.Conv2D(32, 3, padding="same", activation="relu"),\n'
             '        L.MaxPooling2D(),  # 7x7\n'
             '        L.Conv2D(16, 1, activation="relu"),  # fewer maps before the dense layer\n'
             '        L.Flatten(),\n'
             '        L.Dense(64, activation="relu"),  # global code of the mixture\n'
             '        L.Dense(7 * 7 * 16, activation="relu"),\n'
             '        L.Reshape((7, 7, 16)),\n'
             '        L.UpSampling2D(),  # 14x14\n'
             '        L.Conv2D(32, 3, padding="same", activation="relu"),\n'
             '        L.UpSampling2D(),  # 28x28\n'
             '        L.Conv2D(2, 3, padding="same", activation="sigmoid"),  # two sources\n'
             '        L.Permute((3, 1, 2)),  # channels first: (2, 28, 28)\n'
             '    ], name="cleo_autoencoder")\n'
             '\n'
             '\n'
             'if not GRADING:\n'
             '    model = build_model()\n'
             '    model.summary()'),
        md("## 4. Training\n\n"
           "MSE loss (the metric), Adam with its default learning rate, 4 epochs of batches of 64. I "
           "watch the validation loss to see if it overfits."),
        code('if not GRADING:\n'
             '    model.compile(optimizer="adam", loss="mse")\n'
             '    history = model.fit(x_train, y_train, validation_data=(x_val, y_val),\n'
             '                        epochs=EPOCHS, batch_size=64, verbose=2)\n'
             '    model.save(MODEL_PATH)'),
        code(PLOT_CURVES),
        md("The validation loss follows the training loss, so there is no overfitting yet."),
        md("## 5. Evaluation"),
        code(EVALUATE),
        md("The model beats the copy baseline clearly. The garments come out blurry: the 7×7 "
           "bottleneck loses the fine texture. Skip connections (a U-Net) could improve it."),
        md("## Predictions\n\n"
           "I save each prediction as one picture, the garment above the digit, like in my plots."),
        code('model = keras.models.load_model(MODEL_PATH)\n'
             'x_test = np.load(TEST_INPUTS)\n'
             'predictions = model.predict(x_test, batch_size=256, verbose=0)\n'
             '# garment on top, digit below: one 56x28 picture per mixture\n'
             'stacked = np.concatenate([predictions[:, 0], predictions[:, 1]], axis=1)\n'
             'np.save(PREDICTIONS_PATH, stacked)\n'
             'print(f"saved {stacked.shape} to {PREDICTIONS_PATH}")'),
        code('saved = np.load(PREDICTIONS_PATH)\n'
             'assert len(saved) == len(x_test)  # one prediction per mixture\n'
             'print("ok")'),
    ]


def dario():
    """Predicts the garment only and gets the digit as 2x - garment in a Lambda layer: the saved
    model needs unsafe deserialization, so loading it when graded raises an exception."""
    return [
        title("Dario Rossi", "s2004"),
        parameters_cell(epochs=3),
        md("## Setup"),
        code(SETUP),
        md("## 1. Problem statement\n\n"
           "We get `x = (fashion + digit) / 2` and must output both images; the grade is the MSE on "
           "hidden mixtures. Because the mixture is a plain average, **one source determines the "
           "other**: `digit = 2x − fashion`. So the network only needs to predict the garment, and "
           "the digit follows exactly. This halves what the model must learn and guarantees that "
           "the two outputs always add up to the input."),
        md("## 2. Data exploration"),
        code(LOAD_DATA),
        code(SHOW_EXAMPLES),
        code(INPUT_BASELINE),
        md("The garments have textures and sharp contours, the digits are smooth. Copying the input "
           "is the baseline to beat (about 0.04)."),
        md("## 3. The model\n\n"
           "A small convolutional network predicts the garment (sigmoid output), then a `Lambda` "
           "layer computes the digit as `2x − garment` and stacks both into `(2, 28, 28)`. I chose "
           "this physics-style constraint rather than two free outputs because it cannot produce "
           "two sources that contradict the mixture."),
        code('def build_model() -> keras.Model:\n'
             '    L = keras.layers\n'
             '    mixture = keras.Input(shape=(28, 28))\n'
             '    h = L.Reshape((28, 28, 1))(mixture)\n'
             '    h = L.Conv2D(24, 3, padding="same", activation="relu")(h)\n'
             '    h = L.Conv2D(24, 3, padding="same", activation="relu", dilation_rate=2)(h)\n'
             '    h = L.Conv2D(24, 3, padding="same", activation="relu", dilation_rate=4)(h)\n'
             '    garment = L.Reshape((28, 28))(L.Conv2D(1, 1, activation="sigmoid")(h))\n'
             '    # the digit follows from the mixture: d = 2x - f\n'
             '    both = L.Lambda(lambda t: keras.ops.stack([t[1], 2.0 * t[0] - t[1]], axis=1))([mixture, garment])\n'
             '    return keras.Model(mixture, both, name="dario_constrained")\n'
             '\n'
             '\n'
             'if not GRADING:\n'
             '    model = build_model()\n'
             '    model.summary()'),
        md("## 4. Training\n\n"
           "MSE on both outputs (the metric), Adam 1e-3, 3 epochs, batches of 64. The dilated "
           "convolutions see a wider area (up to 15×15 pixels) without pooling."),
        code('if not GRADING:\n'
             '    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")\n'
             '    history = model.fit(x_train, y_train, validation_data=(x_val, y_val),\n'
             '                        epochs=EPOCHS, batch_size=64, verbose=2)\n'
             '    model.save(MODEL_PATH)'),
        code(PLOT_CURVES),
        md("## 5. Evaluation\n\n"
           "I evaluate the model I just trained on the validation split."),
        code('if not GRADING:\n'
             '    val_pred = model.predict(x_val, batch_size=256, verbose=0)\n'
             '    print(f"validation MSE {np.mean((val_pred - y_val) ** 2):.5f} (copy: {copy_mse:.5f})")'),
        md("The constraint works: the outputs always average to the input. The garments are a bit "
           "blurry; a deeper network could improve them."),
        md("## Predictions for the grader\n\n"
           "Reloading the model takes time, so I reuse the trained one when it is in memory."),
        code('if "model" not in globals():  # the grader\'s run: load the file I hand in\n'
             '    model = keras.models.load_model(MODEL_PATH)\n'
             'x_test = np.load(TEST_INPUTS)  # the mixtures as they are\n'
             'predictions = model.predict(x_test, batch_size=256, verbose=0)  # (n, 2, 28, 28)\n'
             'np.save(PREDICTIONS_PATH, predictions.astype("float32"))\n'
             'print(f"saved {predictions.shape} to {PREDICTIONS_PATH}")'),
        code(SELF_CHECK),
    ]


STUDENTS = {"ada_unet": ada, "ben_dense": ben, "cleo_stacked": cleo, "dario_lambda": dario}


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

    scratch = Path(tempfile.mkdtemp(prefix="source-separation-check-"))
    for name in names:
        shutil.copytree(SAMPLES / name, scratch / "submissions" / name)
    started = time.perf_counter()
    code_ = grader_main(["grade", str(HERE), str(scratch / "submissions"), "--out", str(scratch / "out"),
                         "--jobs", "2"])
    print(f"grader exit code {code_}, {time.perf_counter() - started:.0f} s, reports in {scratch / 'out'}")
    with open(scratch / "out" / "grades.csv", newline="") as f:
        for row in csv.DictReader(f):
            print(f"{row['student']:14} {row['failure_class'] or 'graded':22} MSE {row['metric'] or '-':10} "
                  f"total {row['total']:6}  {row['message'][:90]}")
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
