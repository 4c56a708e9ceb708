# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Exam project · Fashion-MNIST under a parameter budget
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/dl-course-kit/dl-course-kit/blob/main/exam_template.ipynb)
#
# **Your name:** _..._  **Student id:** _..._
#
# ## The task
#
# Build a Keras classifier of Fashion-MNIST clothing images (28×28 greyscale, 10 classes) whose
# saved model has **at most 100,000 parameters** (trainable + non-trainable, as counted by
# `model.count_params()`). You have 7 days.
#
# ## The rules, in plain words
#
# - **What you hand in:** this notebook (one `.ipynb`, with your explanations) **and** the model
#   file it saves, `model.keras`. Nothing else is used.
# - **80 % of the grade** is the **accuracy** of your model on a **hidden test set** (5,000 images
#   you never see, of the same kind as the public data), compared with the rest of the class: the
#   best valid result gets full points, a chance-level model (10 %) gets none.
# - **20 % of the grade** is the **quality of the notebook**: a clear problem statement, a look at
#   the data, a model whose choices are motivated, a documented training, an honest evaluation and
#   discussion, readable comments, and a notebook that runs from top to bottom.
# - **How we grade:** we run your notebook with `GRADING = True` (the cell tagged `parameters`
#   receives our values). In that mode the notebook must **not train**: it loads `MODEL_PATH`,
#   predicts the images of `TEST_INPUTS` and saves one class index per image to
#   `PREDICTIONS_PATH`. Keep the cell "Predictions for the grader" as it is.
# - **Limits of a grading run:** 3 minutes for the whole notebook, 2 minutes per cell, 4 GB of
#   memory, no internet. Loading a model and predicting takes seconds: that is all it must do.
# - **Forbidden:** more than 100,000 parameters; pretrained weights (`weights="imagenet"`, hub
#   models, `get_file`, downloads of any kind); importing `torch`, `requests`, `urllib`, `socket`
#   or `http`; training on anything other than the public data; reading the hidden test labels.
#   A broken rule gives 0 for the 80 % part.
# - A notebook that crashes, runs out of time, or writes predictions of the wrong shape gets 0
#   for the 80 % part: **run the self-check at the end** before you hand in.

# %% [markdown]
# ## Parameters
#
# The grader replaces the values of this cell (it is tagged `parameters`). For your own runs keep
# the defaults: `TEST_INPUTS` then points at the **validation** images, so the notebook predicts
# the validation split and you can measure yourself exactly as the grader will.

# %% tags=["parameters"]
GRADING = False  # True when the grader runs the notebook: no training, only load + predict
DATA_DIR = "data/public"  # folder of the public data (unzip fashion-budget-public.zip here)
TEST_INPUTS = "data/public/val_images.npy"  # images to predict; the grader passes the hidden ones
PREDICTIONS_PATH = "predictions.npy"  # where the predicted class indices are saved
MODEL_PATH = "model.keras"  # the model file you hand in
EPOCHS = 2  # yours (the grader never trains): raise it for the real training

# %% [markdown]
# ## Setup
#
# Works in Colab (TensorFlow and Keras 3 are preinstalled) and locally. It prints the versions and
# fixes the random seeds, so that two runs give the same numbers.
#
# **In Colab:** run this cell; it asks you to upload `fashion-budget-public.zip` (the public data
# from the course page) and unzips it into `DATA_DIR`. Colab forgets files when the session ends:
# download `model.keras` (folder icon on the left) before you close it.

# %%
import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # hide TensorFlow's start-up chatter

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
from sklearn.metrics import confusion_matrix

IN_COLAB = "google.colab" in sys.modules
print(f"Python {sys.version.split()[0]} | TensorFlow {tf.__version__} | Keras {keras.__version__}"
      f" | Colab: {IN_COLAB} | GRADING: {GRADING}")
keras.utils.set_random_seed(42)  # seeds Python, NumPy and TensorFlow at once

MAX_PARAMETERS = 100_000  # the budget of the exam
NUM_CLASSES = 10
CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

if IN_COLAB and not GRADING and not os.path.isdir(DATA_DIR):
    import zipfile

    from google.colab import files

    uploaded = files.upload()  # choose fashion-budget-public.zip
    with zipfile.ZipFile(next(iter(uploaded))) as archive:
        archive.extractall(DATA_DIR)
if not GRADING:
    assert os.path.isdir(DATA_DIR), f"public data not found in {DATA_DIR!r}: unzip it there"

# %% [markdown]
# ## 1. Problem statement
#
# *In your own words (a short paragraph or a few bullets):*
#
# - What is the input, what is the output, how many classes? What kind of problem is it?
# - What is measured (the metric) and on which data? Why is a separate, hidden test set needed?
# - What does the budget of 100,000 parameters change in the way you design a model?
# - What accuracy would a trivial model reach? What do you hope to reach?
#
# _Write here._

# %% [markdown]
# ## 2. Data exploration
#
# *Look at the data before modelling:* shapes, dtypes, range of the pixel values, how many images
# per class (is it balanced?), a few images of each class. Which classes do you expect to be
# confused, and why? What preprocessing does that suggest?

# %%
if not GRADING:
    x_train = np.load(os.path.join(DATA_DIR, "train_images.npy"))
    y_train = np.load(os.path.join(DATA_DIR, "train_labels.npy"))
    x_val = np.load(os.path.join(DATA_DIR, "val_images.npy"))
    y_val = np.load(os.path.join(DATA_DIR, "val_labels.npy"))
    print(f"train {x_train.shape} {x_train.dtype} | val {x_val.shape} {x_val.dtype}"
          f" | pixels {x_train.min()}..{x_train.max()}")
    print("images per class (train):", np.bincount(y_train, minlength=NUM_CLASSES))

# %%
if not GRADING:
    fig, axes = plt.subplots(2, 10, figsize=(12, 2.8))
    for c in range(NUM_CLASSES):
        for row in range(2):
            axes[row, c].imshow(x_train[y_train == c][row], cmap="gray_r")
            axes[row, c].axis("off")
        axes[0, c].set_title(CLASS_NAMES[c], fontsize=8)
    plt.suptitle("Two training images per class")
    plt.show()

# %% [markdown]
# *What do you see? (write here)*

# %% [markdown]
# ## 3. The model
#
# *Describe your model and **motivate** each choice:* the kind of layers (dense, convolutional,
# ...), their sizes, activations, normalization, regularization (dropout, weight decay, data
# augmentation), and how you spent the parameter budget. What did you try that did not work?
#
# Tip: put the preprocessing (here `Rescaling`) **inside** the model, so that the saved model
# takes the raw `uint8` images and the grading path stays one line.
#
# The baseline below is a small dense network: replace it with yours.

# %%
def build_model() -> keras.Model:
    """Baseline: a small dense network (replace it with your own model)."""
    return keras.Sequential([
        keras.Input(shape=(28, 28)),
        keras.layers.Rescaling(1 / 255),  # raw pixels 0..255 -> 0..1, saved with the model
        keras.layers.Flatten(),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(NUM_CLASSES, activation="softmax"),
    ], name="baseline_mlp")


if not GRADING:
    model = build_model()
    model.summary()
    print(f"parameters: {model.count_params():,} / budget {MAX_PARAMETERS:,}")
    assert model.count_params() <= MAX_PARAMETERS, "over the parameter budget"

# %% [markdown]
# ## 4. Training
#
# *Explain how you train:* loss, optimizer and learning rate, batch size, number of epochs, how
# you used the validation split (early stopping? choosing hyper-parameters?). Show the learning
# curves and comment on them: under- or over-fitting? What would you change with more time?
#
# This part never runs when the grader runs the notebook (`GRADING = True`): it trains, then
# saves the model to `MODEL_PATH`, the file you hand in.

# %%
if not GRADING:
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    started = time.perf_counter()
    history = model.fit(x_train, y_train, validation_data=(x_val, y_val),
                        epochs=EPOCHS, batch_size=128, verbose=2)
    print(f"trained in {time.perf_counter() - started:.0f} s")
    model.save(MODEL_PATH)
    print(f"saved {MODEL_PATH} ({os.path.getsize(MODEL_PATH) / 1e6:.2f} MB)")

# %%
if not GRADING:
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.5))
    for key, label in [("loss", "train"), ("val_loss", "validation")]:
        ax_loss.plot(history.history[key], marker="o", label=label)
    for key, label in [("accuracy", "train"), ("val_accuracy", "validation")]:
        ax_acc.plot(history.history[key], marker="o", label=label)
    ax_loss.set(title="Loss", xlabel="epoch", ylabel="cross-entropy")
    ax_acc.set(title="Accuracy", xlabel="epoch", ylabel="accuracy")
    ax_loss.legend()
    ax_acc.legend()
    plt.show()

# %% [markdown]
# *Comment on the learning curves (write here).*

# %% [markdown]
# ## 5. Evaluation and discussion
#
# *Measure the saved model on the validation split:* accuracy, the confusion matrix, a few
# misclassified images. Which classes are confused, and does that match what you expected in
# part 2? How far do you expect the hidden test accuracy to be from the validation accuracy, and
# why? What are the limits of your model and what would you try next?

# %%
if not GRADING:
    model = keras.models.load_model(MODEL_PATH)  # exactly the file you hand in
    val_pred = model.predict(x_val.astype("float32"), batch_size=512, verbose=0).argmax(axis=1)
    print(f"validation accuracy: {np.mean(val_pred == y_val):.4f}")
    confusion = confusion_matrix(y_val, val_pred, labels=range(NUM_CLASSES))  # rows: true, columns: predicted
    plt.figure(figsize=(5.5, 5))
    plt.imshow(confusion, cmap="Blues")
    plt.xticks(range(NUM_CLASSES), CLASS_NAMES, rotation=90)
    plt.yticks(range(NUM_CLASSES), CLASS_NAMES)
    plt.xlabel("predicted")
    plt.ylabel("true")
    plt.title("Confusion matrix (validation)")
    plt.colorbar()
    plt.show()

# %% [markdown]
# *Discussion (write here).*

# %% [markdown]
# ## Predictions for the grader — keep this cell as it is
#
# Runs in both modes: it loads the model file you hand in, predicts the images of `TEST_INPUTS`
# (the validation images in your runs, the hidden test images when graded) and saves **one class
# index per image** (`int64`, shape `(n,)`, in the order of the inputs) to `PREDICTIONS_PATH`.
# No training here: a grading run has 3 minutes in all.

# %%
model = keras.models.load_model(MODEL_PATH)
test_inputs = np.load(TEST_INPUTS)
probabilities = model.predict(test_inputs.astype("float32"), batch_size=512, verbose=0)
labels = probabilities.argmax(axis=1)
np.save(PREDICTIONS_PATH, labels.astype("int64"))
print(f"saved {len(labels)} predictions to {PREDICTIONS_PATH}")

# %% [markdown]
# ## Self-check
#
# The same checks the grader makes on what you hand in. In your own runs a problem stops the
# notebook here; fix it before you hand in.

# %%
saved = np.load(PREDICTIONS_PATH)
n_params = keras.models.load_model(MODEL_PATH).count_params()
problems = []
if saved.shape != (len(test_inputs),):
    problems.append(f"shape {saved.shape}, expected ({len(test_inputs)},): one class index per image")
if not np.issubdtype(saved.dtype, np.integer):
    problems.append(f"dtype {saved.dtype}: class indices must be integers (use argmax)")
elif saved.size and (saved.min() < 0 or saved.max() >= NUM_CLASSES):
    problems.append(f"values {saved.min()}..{saved.max()}: class indices are 0..{NUM_CLASSES - 1}")
if n_params > MAX_PARAMETERS:
    problems.append(f"{n_params:,} parameters: over the budget of {MAX_PARAMETERS:,}")
print(f"predictions {saved.shape} {saved.dtype} | model parameters {n_params:,} / {MAX_PARAMETERS:,}")
if TEST_INPUTS.endswith("val_images.npy") and not problems:
    val_labels = np.load(os.path.join(DATA_DIR, "val_labels.npy"))
    print(f"validation accuracy of the saved predictions: {np.mean(saved == val_labels):.4f}")
if problems and not GRADING:
    raise AssertionError("self-check failed:\n- " + "\n- ".join(problems))
print("self-check: " + ("; ".join(problems) if problems else "OK"))

# %% [markdown]
# ## Conclusion
#
# *In a few lines:* what you built, the validation accuracy reached, the parameter count, what
# worked, what did not, and what you would do with more time.
