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
# # 00 · Tensors and automatic differentiation
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/dl-course-kit/dl-course-kit/blob/main/notebooks/00_tensors_and_autodiff.ipynb)
#
# Every deep-learning model is a function built from **tensors** (n-dimensional arrays) whose
# parameters are tuned by **gradient descent**. Before any neural network, we need two tools:
# handling tensors fluently, and getting gradients without deriving them by hand.
#
# ## Learning goals
#
# - create tensors, read their **shape** and **dtype**, and convert between NumPy and TensorFlow;
# - predict the result of **broadcasting** before running it;
# - compute the gradient of a loss **by hand** and check it against `tf.GradientTape`;
# - train a first `keras.Sequential` model on Fashion-MNIST and read its accuracy.

# %% [markdown]
# ## Setup
#
# This cell works in Colab (where TensorFlow and Keras 3 are preinstalled) and locally. It prints
# the versions, so a question on the forum can say what ran, and fixes the random seeds so that
# two runs give the same numbers.

# %%
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # hide TensorFlow's start-up chatter

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf

IN_COLAB = "google.colab" in sys.modules
print(f"Python {sys.version.split()[0]} | TensorFlow {tf.__version__} | Keras {keras.__version__}"
      f" | backend {keras.backend.backend()} | Colab: {IN_COLAB}")
keras.utils.set_random_seed(42)  # seeds Python, NumPy and TensorFlow at once

# %% [markdown]
# ## Parameters
#
# The knobs of this run. `FAST = True` is what the tests and live demos use: a few thousand images
# and one epoch, under a minute on a laptop CPU. The default is the full lesson.

# %% tags=["parameters"]
FAST = False  # True: small data, short training (tests, live demos)
EPOCHS = 5  # passes over the training data in the full lesson
N_TRAIN = 60_000  # training images used in the full lesson

# %%
if FAST:
    EPOCHS, N_TRAIN = 2, 6_000
print(f"FAST={FAST}: {EPOCHS} epochs on {N_TRAIN} images")

# %% [markdown]
# ## 1. Tensors: shape and dtype
#
# A tensor has a **shape** (the size of each axis) and a **dtype** (the type of every element).
# A batch of 32 greyscale 28×28 images is a tensor of shape `(32, 28, 28)`; the *rank* is the
# number of axes, here 3. TensorFlow tensors are immutable; `tf.Variable` holds the values we
# train.
#
# By convention the **first axis is the batch axis**: the examples processed together. Everything
# after it describes one example. A batch of 32 colour images is `(32, height, width, 3)` in Keras'
# default "channels last" layout, a batch of 32 sentences of 100 token ids is `(32, 100)`, and the
# weight matrix of a dense layer mapping 784 inputs to 128 outputs is `(784, 128)`. Reading shapes
# fluently is most of the debugging in deep learning: when a model fails to build, the error message
# almost always names two shapes that do not fit, and the fix is to find which axis is missing,
# extra or transposed. A useful habit is to write the expected shape as a comment next to every line
# that changes it, as the solution of exercise 1 does.

# %%
scalar = tf.constant(3.0)
vector = tf.constant([1.0, 2.0, 3.0])
matrix = tf.constant([[1, 2], [3, 4]], dtype=tf.int32)
images = tf.zeros((32, 28, 28), dtype=tf.uint8)
for name, t in [("scalar", scalar), ("vector", vector), ("matrix", matrix), ("images", images)]:
    print(f"{name:7s} rank={t.ndim} shape={tuple(t.shape)} dtype={t.dtype.name}")

# %% [markdown]
# Dtypes matter: TensorFlow does **not** silently mix them. Adding a `float32` and an `int32`
# tensor is an error, and pixel values stored as `uint8` must be cast to `float32` before they are
# scaled to $[0, 1]$.
#
# Why `float32` and not Python's usual 64-bit floats? Neural networks need many multiplications and
# little precision: the noise of stochastic gradient descent is far larger than the rounding error
# of 32-bit arithmetic, and halving the bytes per number doubles what fits in memory and in the
# processor's caches. NumPy, however, creates `float64` arrays by default, so data coming from NumPy
# often needs an explicit `.astype("float32")`. The round trip between the two libraries is cheap:
# `np.asarray` turns a tensor into an array and `tf.convert_to_tensor` goes the other way.

# %%
try:
    vector + tf.constant([1, 2, 3])
except (tf.errors.InvalidArgumentError, TypeError) as err:
    print("mixing dtypes fails:", type(err).__name__)
pixels = tf.constant([0, 128, 255], dtype=tf.uint8)
print("scaled:", (tf.cast(pixels, tf.float32) / 255.0).numpy())
print("NumPy round trip:", np.asarray(vector), tf.convert_to_tensor(np.arange(3.0)).dtype.name)

# %% [markdown]
# ## 2. Broadcasting
#
# When two tensors of different shapes meet in an element-wise operation, the shapes are aligned
# **from the right**; an axis of size 1 (or a missing axis) is stretched to match the other. So
# `(3, 1) + (4,)` gives `(3, 4)`: this is how a bias vector is added to every row of a batch.
#
# The rule in full: compare the two shapes axis by axis starting from the last one. Two sizes are
# compatible if they are equal or if one of them is 1; a shape with fewer axes is treated as if it
# had extra axes of size 1 on the left. The result takes the larger size on every axis. If some
# pair of sizes is incompatible (say 3 and 4), the operation fails. No data is copied to do the
# stretching: the smaller tensor is simply reused along the stretched axis, which is why
# broadcasting is both convenient and fast.
#
# The convenience has a price. Broadcasting never complains when the shapes are compatible *by
# accident*. Subtracting a vector of 50 targets of shape `(50,)` from 50 predictions of shape
# `(50, 1)` gives a `(50, 50)` table of every prediction minus every target, and its mean is a
# perfectly finite, perfectly wrong loss. In the cell below, predict the shape and the printed
# table before running it.

# %%
column = tf.reshape(tf.range(3.0), (3, 1))
row = tf.range(4.0)
table = column * 10 + row
print("shapes:", column.shape, "+", row.shape, "->", table.shape)
print(table.numpy())

# %% [markdown]
# ### Exercise 1 — standardise the columns of a batch
#
# Write `standardize(x)` that takes a 2-D tensor (rows are examples, columns are features) and
# returns $(x - \mu) / \sigma$ where $\mu$ and $\sigma$ are the **per-column** mean and standard
# deviation. Use broadcasting, no loop. (Hint: `tf.reduce_mean(..., axis=0)`,
# `tf.math.reduce_std`.)

# %% nbgrader={"grade": false, "grade_id": "ex1_standardize", "locked": false, "schema_version": 3, "solution": true, "task": false}
def standardize(x):
    """Return x with every column scaled to mean 0 and standard deviation 1."""
    x = tf.convert_to_tensor(x, dtype=tf.float32)
    ### BEGIN SOLUTION
    mean = tf.reduce_mean(x, axis=0)  # shape (features,), broadcast over the rows
    std = tf.math.reduce_std(x, axis=0)
    return (x - mean) / std
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex1_standardize_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
_x = tf.constant([[1.0, 10.0], [3.0, 30.0], [5.0, 50.0]])
_z = standardize(_x)
assert _z.shape == (3, 2), f"shape should stay (3, 2), got {_z.shape}"
np.testing.assert_allclose(tf.reduce_mean(_z, axis=0).numpy(), [0.0, 0.0], atol=1e-6)
### BEGIN HIDDEN TESTS
np.testing.assert_allclose(tf.math.reduce_std(_z, axis=0).numpy(), [1.0, 1.0], atol=1e-5)
_r = np.random.default_rng(0).normal(5.0, 3.0, size=(100, 4)).astype("float32")
np.testing.assert_allclose(standardize(_r).numpy(), (_r - _r.mean(0)) / _r.std(0), atol=1e-4)
### END HIDDEN TESTS

# %% [markdown]
# ## 3. Gradients: by hand, then with `tf.GradientTape`
#
# Take one neuron without activation, $\hat y = w x + b$, and the mean squared error over $n$
# examples:
#
# $$L(w, b) = \frac{1}{n}\sum_{i=1}^{n} (w x_i + b - y_i)^2 .$$
#
# The chain rule gives
#
# $$\frac{\partial L}{\partial w} = \frac{2}{n}\sum_i (w x_i + b - y_i)\,x_i, \qquad
#   \frac{\partial L}{\partial b} = \frac{2}{n}\sum_i (w x_i + b - y_i).$$
#
# `tf.GradientTape` records the operations applied to watched variables and replays them
# backwards (**reverse-mode automatic differentiation**), giving the same numbers without any
# derivation. That is what every Keras `fit` does at each step.
#
# Why *reverse* mode? A loss is a single number that depends on many parameters (here 2, in the
# model at the end of this notebook about a hundred thousand, in a language model billions). The
# chain rule can be applied in two orders. Forward mode pushes derivatives from one input to all
# outputs, so it needs one pass per parameter. Reverse mode starts from the single output and pulls
# derivatives back to all inputs at once, so one backward pass, costing a small constant times the
# forward pass, gives the whole gradient. This is the algorithm known in neural networks as
# **back-propagation**, and notebook 04 builds it by hand. The tape is the bookkeeping it needs:
# during the forward pass it stores which operation produced each intermediate value, and which
# values that operation will need to compute its local derivative.
#
# Two details of `tf.GradientTape` trip up newcomers. It watches `tf.Variable`s automatically, but a
# plain tensor only if you call `tape.watch(t)`; otherwise its gradient comes back as `None`. And a
# tape is used once: after `tape.gradient` is called it releases its records (pass
# `persistent=True` if you need several gradients from the same forward pass).

# %%
rng = np.random.default_rng(0)
x_data = rng.uniform(-1, 1, size=50).astype("float32")
y_data = (3.0 * x_data - 0.5 + rng.normal(0, 0.1, size=50)).astype("float32")

w = tf.Variable(0.0)
b = tf.Variable(0.0)
with tf.GradientTape() as tape:
    loss = tf.reduce_mean((w * x_data + b - y_data) ** 2)
grad_w, grad_b = tape.gradient(loss, [w, b])

residual = w.numpy() * x_data + b.numpy() - y_data
hand_w = 2 * np.mean(residual * x_data)
hand_b = 2 * np.mean(residual)
print(f"dL/dw: tape {grad_w.numpy():+.5f}  by hand {hand_w:+.5f}")
print(f"dL/db: tape {grad_b.numpy():+.5f}  by hand {hand_b:+.5f}")
np.testing.assert_allclose([grad_w.numpy(), grad_b.numpy()], [hand_w, hand_b], rtol=1e-5)

# %% [markdown]
# With gradients in hand, **gradient descent** is three lines: compute the loss under the tape,
# ask for the gradients, step against them: $\theta \leftarrow \theta - \eta\,\nabla_\theta L$.
#
# The gradient points in the direction in which the loss rises fastest, so a small step against it
# lowers the loss. The **learning rate** $\eta$ sets the size of that step. For this problem the loss
# is a quadratic bowl and the safe range can be worked out: with $x$ spread uniformly over
# $[-1, 1]$ the curvature along $b$ is 2 and along $w$ about $2/3$, and gradient descent on a
# quadratic diverges once $\eta$ exceeds 2 divided by the largest curvature, here about 1. At
# $\eta = 0.5$ the error in $b$ is removed almost at once while the error in $w$ shrinks by roughly a
# third per step, which is why the loss curve below falls along a nearly straight line on a log
# scale before flattening at the noise level of the data: the data were generated with noise of
# standard deviation 0.1, so no line can push the mean squared error much below $0.1^2 = 0.01$.

# %%
learning_rate = 0.5
history = []
for _step in range(60):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean((w * x_data + b - y_data) ** 2)
    grad_w, grad_b = tape.gradient(loss, [w, b])
    w.assign_sub(learning_rate * grad_w)
    b.assign_sub(learning_rate * grad_b)
    history.append(float(loss))
print(f"learned w={w.numpy():.3f} (true 3.0), b={b.numpy():.3f} (true -0.5)")

fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
axes[0].plot(history)
axes[0].set(title="Gradient descent on the MSE", xlabel="step", ylabel="loss (MSE)", yscale="log")
axes[1].scatter(x_data, y_data, s=12, label="data")
grid = np.linspace(-1, 1, 2)
axes[1].plot(grid, w.numpy() * grid + b.numpy(), color="C1", label="fitted line")
axes[1].set(title="The fitted line", xlabel="x", ylabel="y")
axes[1].legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# ### Exercise 2 — the gradient of a cube
#
# Use `tf.GradientTape` to return $\frac{d}{dx}\,x^3$ evaluated at each point of `xs` (a 1-D
# tensor). The result must have the same shape as `xs`. By hand, the answer is $3x^2$: your
# function must get it from the tape, not from the formula.

# %% nbgrader={"grade": false, "grade_id": "ex2_cube_gradient", "locked": false, "schema_version": 3, "solution": true, "task": false}
def cube_gradient(xs):
    """Return d(x**3)/dx at every point of xs, computed with tf.GradientTape."""
    xs = tf.convert_to_tensor(xs, dtype=tf.float32)
    ### BEGIN SOLUTION
    with tf.GradientTape() as tape:
        tape.watch(xs)  # constants are not watched automatically, variables are
        ys = xs**3
    return tape.gradient(ys, xs)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex2_cube_gradient_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
_g = cube_gradient([1.0, 2.0, -3.0])
np.testing.assert_allclose(np.asarray(_g), [3.0, 12.0, 27.0], rtol=1e-6)
### BEGIN HIDDEN TESTS
_pts = np.linspace(-2, 2, 9).astype("float32")
np.testing.assert_allclose(np.asarray(cube_gradient(_pts)), 3 * _pts**2, rtol=1e-5, atol=1e-6)
### END HIDDEN TESTS

# %% [markdown]
# ## 4. A first Keras model on Fashion-MNIST
#
# Fashion-MNIST holds 70,000 greyscale 28×28 photos of clothes in 10 classes (60,000 for training,
# 10,000 for testing). The line below is the real loader: in Colab it downloads the files once;
# offline, the course's `datasets/provision.py` puts the same files in Keras' cache beforehand.

# %%
(x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
print("train", x_train.shape, x_train.dtype, "| test", x_test.shape)

x_train = x_train[:N_TRAIN].astype("float32") / 255.0  # uint8 -> float32 in [0, 1]
y_train = y_train[:N_TRAIN]
x_test = x_test.astype("float32") / 255.0

fig, axes = plt.subplots(2, 5, figsize=(9, 4))
for ax, image, label in zip(axes.flat, x_train, y_train):
    ax.imshow(image, cmap="gray_r")
    ax.set_title(CLASS_NAMES[label], fontsize=9)
    ax.axis("off")
fig.suptitle("Fashion-MNIST: one image per panel, its label above")
plt.show()

# %% [markdown]
# `keras.Sequential` stacks layers: `Flatten` turns each image into a vector of 784 pixels, a
# `Dense` layer with ReLU learns 128 features, and the last `Dense` layer outputs 10 class
# probabilities through a **softmax**. The loss is the cross-entropy
# $-\log p_{\text{true class}}$; `sparse_` means the labels are integers, not one-hot vectors.
#
# The summary counts the parameters: the hidden layer has $784 \times 128$ weights plus 128 biases,
# 100,480 in all, and the output layer $128 \times 10 + 10 = 1{,}290$. Every one of them receives its
# gradient from the same reverse-mode pass we just used on two parameters. The optimizer is Adam, a
# variant of gradient descent that adapts the step size of every parameter from running averages of
# its gradients; notebook 05 compares it with plain SGD.
#
# Before training, a useful sanity check is the loss a clueless model would have. A model that gives
# every class probability 1/10 has cross-entropy $\log 10 \approx 2.30$, so an untrained network,
# evaluated before `fit`, should give a loss near that value (the loss `fit` prints for the first
# epoch is lower: it is averaged over an epoch during which the model already improved). If the
# untrained loss is much higher, the outputs are confidently wrong, often a sign that the inputs
# were not scaled. `validation_split=0.1` holds out
# the *last* 10 % of the training arrays; the model never trains on them, so their accuracy estimates
# how the model does on images it has not seen.

# %%
model = keras.Sequential([
    keras.Input(shape=(28, 28)),
    keras.layers.Flatten(),
    keras.layers.Dense(128, activation="relu"),
    keras.layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.summary()
fit = model.fit(x_train, y_train, epochs=EPOCHS, batch_size=64, validation_split=0.1, verbose=2)

# %%
test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"test accuracy: {test_accuracy:.3f} (chance: 0.100)")

fig, ax = plt.subplots(figsize=(5, 3.5))
ax.plot(fit.history["accuracy"], marker="o", label="training")
ax.plot(fit.history["val_accuracy"], marker="o", label="validation")
ax.set(title="Learning curve", xlabel="epoch", ylabel="accuracy")
ax.legend()
plt.show()

# %% [markdown]
# Reading the learning curve: training accuracy rises every epoch because the optimizer is fitting
# exactly those images. Validation accuracy is the honest number. While the two curves rise together,
# the model is still learning patterns that generalise; when validation accuracy stalls while training
# accuracy keeps climbing, the model has started to memorise, the subject of notebook 06. With a few
# epochs, as here, the two curves usually stay close. The remaining errors are mostly between
# similar classes (shirt, T-shirt, pullover and coat), which a dense layer that sees the image as a
# flat list of pixels, with no notion of neighbouring pixels, finds hard to separate; the
# convolutional networks of notebook 07 address exactly that.
#
# ### Exercise 3 (conceptual) — predict a broadcast
#
# Without running any code, what is the shape of `tf.zeros((5, 1, 3)) + tf.zeros((4, 1))`? Assign it
# to `BROADCAST_SHAPE` as a tuple of ints (for example `(2, 3)`). Use the rule above: align the shapes
# from the right, pad the shorter one with size-1 axes on the left, and stretch every size-1 axis.

# %% nbgrader={"grade": false, "grade_id": "concept_broadcast_shape", "locked": false, "schema_version": 3, "solution": true, "task": false}
BROADCAST_SHAPE = None  # a tuple of ints
### BEGIN SOLUTION
BROADCAST_SHAPE = (5, 4, 3)  # (5,1,3) with (1,4,1): 5 vs 1 -> 5, 1 vs 4 -> 4, 3 vs 1 -> 3
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "concept_broadcast_shape_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
assert isinstance(BROADCAST_SHAPE, tuple) and all(isinstance(d, int) for d in BROADCAST_SHAPE), (
    "BROADCAST_SHAPE is a tuple of ints")
### BEGIN HIDDEN TESTS
assert BROADCAST_SHAPE == (5, 4, 3), "(5, 1, 3) and (1, 4, 1) broadcast to (5, 4, 3)"
### END HIDDEN TESTS

# %% [markdown]
# ## Common pitfalls
#
# - **Accidental broadcasting.** Predictions of shape `(n, 1)` minus targets of shape `(n,)` give an
#   `(n, n)` matrix, and the loss is silently wrong. Print the shapes of both operands whenever you
#   write a loss by hand, or `tf.debugging.assert_equal(tf.shape(a), tf.shape(b))`.
# - **Forgetting to scale or cast the pixels.** Feeding `uint8` values in 0–255 to a network works
#   in Keras (it casts), but the large inputs make the initial outputs extreme and training
#   unstable. A loss before training far above $\log 10 \approx 2.3$ on a 10-class problem is the
#   symptom.
# - **A gradient of `None`.** The tape did not see the path from the variable to the loss: the
#   tensor was not watched, the computation left TensorFlow (a `.numpy()` call, a Python `float`), or
#   the loss was computed outside the `with` block.
# - **Reduction along the wrong axis.** `tf.reduce_mean(x)` without `axis` averages everything;
#   standardising a batch needs the per-feature statistics, `axis=0`. Check the shape of the result:
#   per-column statistics of a `(rows, features)` tensor have shape `(features,)`.
# - **Reporting the training accuracy.** It measures memory as much as learning. Quote validation
#   or test accuracy, and use the test set only once, at the end.
# - **A learning rate that is too large.** The loss grows or jumps to `nan` within a few steps.
#   Divide the learning rate by 10 before looking for subtler bugs.
#
# ## Further reading
#
# - Goodfellow, Bengio & Courville (2016), *Deep Learning*, MIT Press, chapter 2 (linear algebra)
#   and section 6.5 (back-propagation and computational graphs).
# - Chollet (2021), *Deep Learning with Python*, 2nd edition, Manning, chapter 2 (the mathematical
#   building blocks of neural networks: tensors, broadcasting, gradients).
# - Baydin, Pearlmutter, Radul & Siskind (2018), "Automatic differentiation in machine learning: a
#   survey", *Journal of Machine Learning Research* 18.
# - Xiao, Rasul & Vollgraf (2017), "Fashion-MNIST: a novel image dataset for benchmarking machine
#   learning algorithms", arXiv:1708.07747.
# - Kingma & Ba (2015), "Adam: a method for stochastic optimization", ICLR.

# %% [markdown]
# ## What we reached
#
# The last cell checks the lesson worked: a dense network trained for a few epochs classifies
# Fashion-MNIST far above chance (10 %). Expect about 0.79 in FAST mode and 0.87 in the full
# lesson (the recorded runs: 0.790 and 0.867).
#
# Recorded by `benchmarks/notebooks.py` for `test_accuracy`: FAST mode 0.7895 (target ≥ 0.75, 8 s, 2026-11-23); full lesson 0.8674 (target ≥ 0.85, 22 s, 2026-11-22).

# %% tags=["check"]
RESULT = {"metric": "test_accuracy", "value": round(float(test_accuracy), 4),
          "target": 0.75 if FAST else 0.85}
print(RESULT)
assert RESULT["value"] >= RESULT["target"], f"accuracy {RESULT['value']} below {RESULT['target']}"
