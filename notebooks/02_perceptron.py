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
# # 02 · The perceptron
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/dl-course-kit/dl-course-kit/blob/main/notebooks/02_perceptron.ipynb)
#
# The first artificial neurons date from 1943 (McCulloch and Pitts) and 1958 (Rosenblatt). They
# already contain the idea of every network in this course: a **weighted sum** of inputs followed
# by a **non-linearity**, with weights **learned from examples**. They also show the limit that
# motivated hidden layers: a single neuron can only draw a straight line.
#
# ## Learning goals
#
# - compute logical functions with a **McCulloch-Pitts** threshold unit;
# - write **Rosenblatt's learning rule** from scratch in NumPy and watch it converge;
# - read the perceptron's weights as a **separating hyperplane** and plot it;
# - explain, with a four-line proof and an experiment, why a perceptron **cannot learn XOR**.

# %% [markdown]
# ## Setup
#
# This cell works in Colab (where TensorFlow and Keras 3 are preinstalled) and locally. It prints
# the versions, so a question on the forum can say what ran, and fixes the random seeds so that
# two runs give the same numbers. This notebook itself only needs NumPy.

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
print(f"Python {sys.version.split()[0]} | NumPy {np.__version__} | TensorFlow {tf.__version__}"
      f" | Keras {keras.__version__} | Colab: {IN_COLAB}")
keras.utils.set_random_seed(42)  # seeds Python, NumPy and TensorFlow at once

# %% [markdown]
# ## Parameters
#
# The knobs of this run. `FAST = True` is what the tests and live demos use. Everything here is
# quick; the full lesson just uses more points and more epochs.

# %% tags=["parameters"]
FAST = False  # True: fewer points and epochs (tests, live demos)
N_POINTS = 400  # points of the linearly separable 2-D problem
MAX_EPOCHS = 100  # passes over the data before the perceptron gives up
LEARNING_RATE = 1.0  # the perceptron's step size (its value barely matters, see section 3)

# %%
if FAST:
    N_POINTS, MAX_EPOCHS = 100, 30
print(f"FAST={FAST}: {N_POINTS} points, at most {MAX_EPOCHS} epochs")

# %% [markdown]
# ## 1. The McCulloch-Pitts neuron
#
# A McCulloch-Pitts unit takes binary inputs $x_i \in \{0, 1\}$, fixed weights $w_i$ and a
# threshold $\theta$, and fires when the weighted sum reaches the threshold:
#
# $$y = \begin{cases} 1 & \text{if } \sum_i w_i x_i \ge \theta \\ 0 & \text{otherwise.}\end{cases}$$
#
# Nothing is learned: a person chooses the weights. With weights $(1, 1)$, threshold 2 gives AND
# and threshold 1 gives OR; a weight of $-1$ and threshold 0 gives NOT.
#
# McCulloch and Pitts (1943) were not building a classifier. They wanted to show that networks of
# such idealised neurons can compute logical propositions: since AND, OR and NOT are enough to build
# any Boolean function, a large enough network of these units, wired by hand, can compute any of
# them. The unit survives almost unchanged in every network of this course: a weighted sum of the
# inputs, compared to a threshold (today: shifted by a bias and passed through a smooth activation).
# What was missing was a way to *find* the weights from examples instead of designing them.

# %%
def mp_neuron(x, weights, threshold):
    """McCulloch-Pitts unit: 1 where the weighted sum of the rows of x reaches the threshold."""
    return (np.asarray(x) @ np.asarray(weights) >= threshold).astype(int)


X_BITS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
print("x1 x2 | AND OR")
for row, a, o in zip(X_BITS, mp_neuron(X_BITS, [1, 1], 2), mp_neuron(X_BITS, [1, 1], 1)):
    print(f" {row[0]}  {row[1]} |  {a}   {o}")
print("NOT:", mp_neuron([[0], [1]], [-1], 0))

# %% [markdown]
# ### Exercise 1 — a majority vote neuron
#
# Choose the weights and the threshold of a McCulloch-Pitts unit with **three** binary inputs
# that fires when **at least two** of them are 1 (a majority vote). `majority_neuron()` returns
# `(weights, threshold)` with `weights` a list of three numbers.

# %% nbgrader={"grade": false, "grade_id": "ex1_majority", "locked": false, "schema_version": 3, "solution": true, "task": false}
def majority_neuron():
    """Return (weights, threshold) of a 3-input McCulloch-Pitts majority unit."""
    ### BEGIN SOLUTION
    return [1, 1, 1], 2
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex1_majority_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
_weights, _threshold = majority_neuron()
assert len(_weights) == 3, "three inputs, three weights"
_all_inputs = np.array([[a, b, c] for a in (0, 1) for b in (0, 1) for c in (0, 1)])
assert mp_neuron([[1, 1, 0]], _weights, _threshold)[0] == 1, "two votes out of three: fire"
### BEGIN HIDDEN TESTS
_expected = (_all_inputs.sum(axis=1) >= 2).astype(int)
np.testing.assert_array_equal(mp_neuron(_all_inputs, _weights, _threshold), _expected)
### END HIDDEN TESTS

# %% [markdown]
# ## 2. Rosenblatt's perceptron learns its weights
#
# Rosenblatt kept the threshold unit, moved the threshold into a **bias** $b = -\theta$, and
# added a rule to **learn** $w$ and $b$ from labelled examples $(x, y)$, $y \in \{0, 1\}$:
#
# $$\hat y = \mathrm{step}(w^\top x + b), \qquad
#   w \leftarrow w + \eta\,(y - \hat y)\,x, \qquad b \leftarrow b + \eta\,(y - \hat y).$$
#
# If the prediction is right, $y - \hat y = 0$ and nothing changes. If the neuron stayed silent
# when it should have fired ($y - \hat y = +1$), $x$ is **added** to $w$, which raises
# $w^\top x$ for this input next time; in the opposite error it is subtracted. One pass over all
# examples, in random order, is an **epoch**; we stop after an epoch without any mistake.
#
# Why does adding $x$ help? After the update, the new activation for the same input is
# $(w + \eta x)^\top x + (b + \eta) = w^\top x + b + \eta(\lVert x \rVert^2 + 1)$: it has risen by a
# positive amount, so the neuron is closer to firing on that example. One update does not always
# fix the mistake, and it can break another example that was right; the surprise of the convergence
# theorem below is that on separable data these corrections cannot go on forever.
#
# The rule looks like gradient descent, and it nearly is. It is stochastic gradient descent, one
# example at a time, on the loss $\max(0, -(2y-1)(w^\top x + b))$, which is zero for a correctly
# classified point and grows with how far a wrong point is on the wrong side. What it lacks is a
# smooth output: the step function has zero derivative almost everywhere, so the rule cannot be
# extended to several layers by the chain rule. Replacing the step by a sigmoid or a ReLU is exactly
# the change that makes the multi-layer networks of notebooks 03 and 04 trainable.

# %%
def step(z):
    return (z > 0).astype(int)


def predict(w, b, X):
    return step(X @ w + b)


def train_perceptron(X, y, epochs=MAX_EPOCHS, lr=LEARNING_RATE, seed=0):
    """Rosenblatt's rule. Returns w, b and, per epoch, the mistakes made and the weights after it."""
    rng = np.random.default_rng(seed)
    w = np.zeros(X.shape[1])
    b = 0.0
    history = []
    for _epoch in range(epochs):
        mistakes = 0
        for i in rng.permutation(len(X)):  # a new random order every epoch
            error = y[i] - step(X[i] @ w + b)  # +1, 0 or -1
            if error != 0:
                w = w + lr * error * X[i]
                b = b + lr * error
                mistakes += 1
        history.append({"mistakes": mistakes, "w": w.copy(), "b": b,
                        "accuracy": np.mean(predict(w, b, X) == y)})
        if mistakes == 0:  # a full epoch without an error: converged
            break
    return w, b, history


# %% [markdown]
# ## 3. Linear separability and the separating hyperplane
#
# The perceptron fires when $w^\top x + b > 0$. The set where $w^\top x + b = 0$ is a
# **hyperplane**: a line in 2-D, a plane in 3-D. $w$ is perpendicular to it and points to the
# side of class 1; $|b| / \lVert w \rVert$ is its distance from the origin. In 2-D the line is
#
# $$x_2 = -\frac{w_1 x_1 + b}{w_2}.$$
#
# A data set is **linearly separable** when some hyperplane puts all class-1 points on one side
# and all class-0 points on the other. For such data the **perceptron convergence theorem**
# (Novikoff, 1962) guarantees that the rule stops after at most $(R / \gamma)^2$ mistakes, where
# $R$ is the largest norm of an input and $\gamma$ the margin of the best separating hyperplane.
# Starting from $w = 0$, the learning rate only rescales $w$ and $b$ together, so it does not
# change the predictions.
#
# The idea of the proof is worth knowing, because it explains the bound. Fold the bias into $w$ as a
# weight on an extra input fixed to 1 ($R$ then measures the inputs with that extra 1), and let
# $w^*$ be a unit-length separating vector with margin $\gamma$. Every mistake adds (or subtracts)
# an input that $w^*$ classifies correctly with margin at least $\gamma$, so each mistake raises
# $w^\top w^*$ by at least $\gamma$: after $k$ mistakes, $w^\top w^* \ge k\gamma$. Meanwhile a
# mistake happens only when the input points "against" $w$, so each mistake raises
# $\lVert w \rVert^2$ by at most $R^2$: after $k$ mistakes, $\lVert w \rVert \le \sqrt{k}\,R$.
# Since $w^\top w^* \le \lVert w \rVert$, we get $k\gamma \le \sqrt{k}R$, that is
# $k \le (R/\gamma)^2$. A small margin or inputs far from the origin make learning slow; the order
# of the examples and the learning rate do not enter.
#
# In the figure below, the dashed lines are the boundaries after earlier epochs and the solid one is
# the final line; compare it with the grey dotted true line, which it need not match exactly, since
# any line inside the empty band separates the data. The right panel counts the mistakes per epoch;
# it reaches zero, as the theorem promises for these separable points.

# %%
# Points in a square, labelled by a hidden "true" line; a band of width 2 x 0.1 around it is
# left empty, so the classes are separable with margin 0.1.
rng = np.random.default_rng(1)
TRUE_W, TRUE_B = np.array([-1.0, 2.0]), -1.5
X_sep = rng.uniform(-3, 3, size=(4 * N_POINTS, 2))
distance = (X_sep @ TRUE_W + TRUE_B) / np.linalg.norm(TRUE_W)
X_sep = X_sep[np.abs(distance) > 0.1][:N_POINTS]
y_sep = (X_sep @ TRUE_W + TRUE_B > 0).astype(int)
w_sep, b_sep, hist_sep = train_perceptron(X_sep, y_sep)
print(f"converged after {len(hist_sep)} epochs, w={np.round(w_sep, 2)}, b={b_sep:.2f}, "
      f"accuracy {np.mean(predict(w_sep, b_sep, X_sep) == y_sep):.3f}")


def boundary_x2(w, b, x1):
    """x2 on the line w1*x1 + w2*x2 + b = 0."""
    return -(w[0] * x1 + b) / w[1]


fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
ax = axes[0]
ax.scatter(*X_sep[y_sep == 0].T, s=12, label="class 0")
ax.scatter(*X_sep[y_sep == 1].T, s=12, label="class 1")
x1 = np.array([-3.5, 3.5])
shown = sorted({0, len(hist_sep) // 2, len(hist_sep) - 1})
for k in shown:
    h = hist_sep[k]
    if h["w"][1] != 0:
        ax.plot(x1, boundary_x2(h["w"], h["b"], x1), lw=1.5 if k == shown[-1] else 1,
                ls="-" if k == shown[-1] else "--", label=f"after epoch {k + 1}")
mid = -b_sep * w_sep / np.dot(w_sep, w_sep)  # the point of the line closest to the origin
ax.annotate("", xy=mid + w_sep / np.linalg.norm(w_sep), xytext=mid,
            arrowprops={"arrowstyle": "->", "color": "k"})
ax.text(*(mid + 1.1 * w_sep / np.linalg.norm(w_sep)), "w", fontsize=12)
ax.plot(x1, boundary_x2(TRUE_W, TRUE_B, x1), color="grey", ls=":", label="true line")
ax.set(title="The learned separating line (w points to class 1)", xlabel="$x_1$",
       ylabel="$x_2$", xlim=(-3.5, 3.5), ylim=(-3.5, 3.5))
ax.set_aspect("equal")
ax.legend(fontsize=8, loc="lower right")
axes[1].plot(range(1, len(hist_sep) + 1), [h["mistakes"] for h in hist_sep], marker="o")
axes[1].set(title="Mistakes per epoch: zero means converged", xlabel="epoch",
            ylabel="mistakes during the epoch")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 4. AND and OR are learned
#
# On the four corners of the unit square, AND and OR are linearly separable: a line cuts off the
# corner $(1, 1)$ for AND, the corner $(0, 0)$ for OR. The perceptron finds such lines in a few
# epochs: the same rule, different data. (The perceptron stops at the first line without a
# mistake, not the best-centred one, so its line may pass through a corner: there
# $w^\top x + b = 0$, which the step function counts as 0.)

# %%
TARGETS = {"AND": np.array([0, 0, 0, 1]), "OR": np.array([0, 1, 1, 1]),
           "XOR": np.array([0, 1, 1, 0])}
results = {}
for name, target in TARGETS.items():
    w_g, b_g, hist_g = train_perceptron(X_BITS.astype(float), target)
    results[name] = {"w": w_g, "b": b_g, "history": hist_g,
                     "accuracy": np.mean(predict(w_g, b_g, X_BITS) == target)}
    print(f"{name:3s}: w={w_g}, b={b_g:+.1f}, epochs={len(hist_g):3d}, "
          f"predictions={predict(w_g, b_g, X_BITS)}, accuracy={results[name]['accuracy']:.2f}")

# %%
fig, axes = plt.subplots(1, 3, figsize=(13, 4.2))
grid1, grid2 = np.meshgrid(np.linspace(-0.5, 1.5, 200), np.linspace(-0.5, 1.5, 200))
for ax, (name, res) in zip(axes, results.items()):
    zone = predict(res["w"], res["b"], np.c_[grid1.ravel(), grid2.ravel()]).reshape(grid1.shape)
    ax.contourf(grid1, grid2, zone, levels=[-0.5, 0.5, 1.5], colors=["#deebf7", "#fee6ce"])
    target = TARGETS[name]
    ax.scatter(*X_BITS[target == 0].T, s=150, marker="o", color="C0", label="target 0")
    ax.scatter(*X_BITS[target == 1].T, s=150, marker="s", color="C1", label="target 1")
    ax.set(title=f"{name}: accuracy {res['accuracy']:.2f} after {len(res['history'])} epochs",
           xlabel="$x_1$", ylabel="$x_2$")
    ax.set_aspect("equal")
axes[0].legend(loc="upper left", fontsize=8)
fig.suptitle("Regions where the learned perceptron outputs 1 (orange) or 0 (blue)")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 5. XOR: the perceptron never converges
#
# XOR is 1 when exactly one input is 1. Look at the corners: the two 1s sit on one diagonal, the
# two 0s on the other. No line can separate them. The proof takes four lines; a perceptron
# fires when $w_1 x_1 + w_2 x_2 + b > 0$, so XOR would need
#
# $$\underbrace{b \le 0}_{(0,0)\to 0},\quad \underbrace{w_2 + b > 0}_{(0,1)\to 1},\quad
#   \underbrace{w_1 + b > 0}_{(1,0)\to 1},\quad \underbrace{w_1 + w_2 + b \le 0}_{(1,1)\to 0}.$$
#
# Adding the two middle inequalities gives $w_1 + w_2 + 2b > 0$, so
# $w_1 + w_2 + b > -b \ge 0$, which contradicts the last one. Whatever the weights, at least one
# corner is wrong: **accuracy can never exceed 3/4**. The learning rule therefore keeps making
# mistakes in every epoch and cycles forever; we stop it after `MAX_EPOCHS`.
#
# Minsky and Papert's 1969 book made this limit famous, and with it the need for **hidden
# layers** (notebook 03).
#
# The left plot below shows the two behaviours side by side: AND and OR climb to accuracy 1 and
# stop, while XOR wanders below the dotted 3/4 line until the epoch budget runs out. The
# histogram on the right is an experiment beside the proof: random lines get 1, 2 or 3 corners
# right, and none gets all 4. None gets all 4 *wrong* either: such a line would compute the
# opposite labels, XNOR, which puts equal labels on the diagonals just as XOR does.

# %%
xor_hist = results["XOR"]["history"]
xor_best = max(h["accuracy"] for h in xor_hist)
print(f"XOR after {len(xor_hist)} epochs: mistakes in the last epoch "
      f"{xor_hist[-1]['mistakes']}, best accuracy reached {xor_best:.2f}")

# An experiment beside the proof: 100,000 random lines, none classifies all four corners.
rand_w = np.random.default_rng(0).normal(size=(100_000, 3))
rand_pred = step(X_BITS @ rand_w[:, :2].T + rand_w[:, 2])  # shape (4 corners, 100,000 lines)
rand_acc = (rand_pred == TARGETS["XOR"][:, None]).mean(axis=0)
print(f"best accuracy of 100,000 random lines on XOR: {rand_acc.max():.2f}")

fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
for name in TARGETS:
    hist = results[name]["history"]
    axes[0].plot(range(1, len(hist) + 1), [h["accuracy"] for h in hist], marker=".", label=name)
axes[0].axhline(0.75, color="grey", ls=":", label="3/4: best any line can do on XOR")
axes[0].set(title="Accuracy after each epoch", xlabel="epoch", ylabel="accuracy",
            ylim=(0, 1.05))
axes[0].legend(fontsize=8)
axes[1].hist(rand_acc, bins=[-0.125, 0.125, 0.375, 0.625, 0.875, 1.125], rwidth=0.8)
axes[1].set(title="100,000 random lines on XOR", xlabel="accuracy on the 4 corners",
            ylabel="number of lines")
plt.tight_layout()
plt.show()

# %% [markdown]
# ### Exercise 2 — make XOR separable with a better feature
#
# The perceptron is limited to lines **in the space of its inputs**. Give it a better input and
# XOR becomes easy. Write `xor_features(X)` that takes an array of shape `(n, 2)` and returns an
# array of shape `(n, 3)`: the two original columns followed by **one new column computed from
# them** such that `train_perceptron` reaches accuracy 1.0 on XOR. (Hint: which simple function
# of $x_1$ and $x_2$ is 1 only at the corner $(1, 1)$?)
#
# Choosing features by hand is what a hidden layer will learn to do by itself.

# %% nbgrader={"grade": false, "grade_id": "ex2_xor_features", "locked": false, "schema_version": 3, "solution": true, "task": false}
def xor_features(X):
    """Return X (shape (n, 2)) with a third column that makes XOR linearly separable."""
    X = np.asarray(X, dtype=float)
    ### BEGIN SOLUTION
    return np.c_[X, X[:, 0] * X[:, 1]]  # the product is 1 only at (1, 1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex2_xor_features_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
_F = xor_features(X_BITS)
assert _F.shape == (4, 3), f"expected shape (4, 3), got {_F.shape}"
np.testing.assert_array_equal(_F[:, :2], X_BITS)
_w, _b, _ = train_perceptron(_F, TARGETS["XOR"], epochs=100)
assert np.mean(predict(_w, _b, _F) == TARGETS["XOR"]) == 1.0, "the perceptron must now solve XOR"
### BEGIN HIDDEN TESTS
_jit = np.random.default_rng(3)
_Xn = np.repeat(X_BITS, 25, axis=0) + _jit.uniform(-0.1, 0.1, size=(100, 2))
_yn = np.repeat(TARGETS["XOR"], 25)
_Fn = xor_features(_Xn)
assert _Fn.shape == (100, 3)
_w, _b, _ = train_perceptron(_Fn, _yn, epochs=300)
assert np.mean(predict(_w, _b, _Fn) == _yn) == 1.0, "must also work for points near the corners"
### END HIDDEN TESTS

# %% [markdown]
# The new column changes the geometry, not the learning rule. In three dimensions, the corner
# $(1, 1)$ is lifted to height 1 while the other three stay at height 0, and a tilted plane can now
# put the two XOR-positive corners on one side and the two negative ones on the other. This is the
# central idea of the rest of the course: a linear model on well-chosen features is powerful, and a
# neural network is a way to **learn** the features instead of guessing them. Kernel methods such as
# the RBF SVM of notebook 01 reach the same goal by a fixed, implicit feature map.
#
# ### Exercise 3 (conceptual) — how many functions can one perceptron compute?
#
# There are $2^4 = 16$ Boolean functions of two inputs (one output bit for each of the four corners
# of the square), from "always 0" through AND, OR, XOR to "always 1". How many of the 16 can a
# **single** perceptron (one threshold unit on $x_1, x_2$) compute exactly? Reason with the corners
# of the square, and assign the number to `N_SEPARABLE`.

# %% nbgrader={"grade": false, "grade_id": "concept_separable_functions", "locked": false, "schema_version": 3, "solution": true, "task": false}
N_SEPARABLE = None  # an int between 0 and 16
### BEGIN SOLUTION
N_SEPARABLE = 14  # all but XOR and XNOR: the two "diagonal" labelings
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "concept_separable_functions_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
assert isinstance(N_SEPARABLE, int) and 0 <= N_SEPARABLE <= 16, "an int between 0 and 16"
### BEGIN HIDDEN TESTS
assert N_SEPARABLE == 14, "only XOR and XNOR put equal labels on the diagonals; the other 14 are separable"
### END HIDDEN TESTS

# %% [markdown]
# ## Common pitfalls
#
# - **Forgetting the bias.** Without $b$ the boundary must pass through the origin, and the corner
#   $(0, 0)$ always gets activation 0, hence output 0: NAND, NOR or NOT, which must output 1 there,
#   become impossible. If a perceptron fails on an easy problem, check that the bias is learned.
# - **Mixing label conventions.** The rule here uses $y \in \{0, 1\}$ and $y - \hat y$; many texts
#   use $y \in \{-1, +1\}$ and update on $y\,x$. Mixing the two (labels $\pm 1$ with a 0/1 step)
#   produces updates of the wrong size or sign.
# - **Waiting for convergence on data that are not separable.** The rule never stops on XOR or on
#   noisy data, and its final weights depend on where it happened to be when the budget ran out.
#   Cap the epochs and keep the best weights seen (the "pocket" variant), or use a smooth loss.
# - **Reading "converged" as "good".** Zero training mistakes says nothing about the margin: the
#   first separating line found can pass very close to some points, and then classifies new points
#   near them poorly. That is why the check measures the margin and the direction of $w$.
# - **Tuning the learning rate of a perceptron.** From $w = 0$ it only rescales the weights, so it
#   cannot change what is learned; the scale of the inputs (through $R$) and the margin are what
#   decide the number of mistakes.
# - **Presenting the examples in a fixed, sorted order.** All class-0 points followed by all
#   class-1 points can make the line swing back and forth within each epoch; shuffling every epoch, as
#   `train_perceptron` does, is the standard practice.
#
# ## Further reading
#
# - McCulloch & Pitts (1943), "A logical calculus of the ideas immanent in nervous activity",
#   *Bulletin of Mathematical Biophysics* 5.
# - Rosenblatt (1958), "The perceptron: a probabilistic model for information storage and
#   organization in the brain", *Psychological Review* 65.
# - Novikoff (1962), "On convergence proofs on perceptrons", Symposium on the Mathematical Theory
#   of Automata.
# - Minsky & Papert (1969), *Perceptrons: An Introduction to Computational Geometry*, MIT Press.
# - Freund & Schapire (1999), "Large margin classification using the perceptron algorithm",
#   *Machine Learning* 37.
# - Goodfellow, Bengio & Courville (2016), *Deep Learning*, MIT Press, section 6.1 (learning XOR
#   with a hidden layer).

# %% [markdown]
# ## What we reached
#
# The last cell checks what the rule learned. It learns AND and OR perfectly (accuracy 1.0). On
# the separable problem of section 3, the learned line puts every point on its correct side
# **with a margin**: the smallest distance of a point to the line,
# $\min_i (2y_i - 1)(w^\top x_i + b) / \lVert w \rVert$, must be at least 0.01. (It is at most
# the best achievable margin, and usually below it: the perceptron stops at the first line
# without a mistake, not the widest one. On AND and OR that line may pass through a corner,
# section 4, so their margin can be 0.) And the learned normal $w$ must point almost the same
# way as the hidden true one (cosine at least 0.95). XOR needs no check: section 5 proved that
# no line gets more than 3 corners right, so an assertion on it could never fail.
#
# Recorded by `benchmarks/notebooks.py` for `min_accuracy_AND_OR`: FAST mode 1.0 (target ≥ 1.0, 6 s, 2026-11-23); full lesson 1.0 (target ≥ 1.0, 7 s, 2026-11-23).

# %% tags=["check"]
and_or = min(results["AND"]["accuracy"], results["OR"]["accuracy"])
signed_distance = (2 * y_sep - 1) * (X_sep @ w_sep + b_sep) / np.linalg.norm(w_sep)
learned_margin = float(signed_distance.min())  # > 0: every point strictly on its own side
cosine_to_true = float(w_sep @ TRUE_W / (np.linalg.norm(w_sep) * np.linalg.norm(TRUE_W)))
RESULT = {"metric": "min_accuracy_AND_OR", "value": round(float(and_or), 4), "target": 1.0,
          "separable_margin": round(learned_margin, 4),
          "cosine_to_true_normal": round(cosine_to_true, 4)}
print(RESULT)
assert RESULT["value"] >= RESULT["target"], f"AND/OR accuracy {RESULT['value']} below 1.0"
assert learned_margin >= 0.01, f"the learned line's margin {learned_margin:.4f} is below 0.01"
assert cosine_to_true >= 0.95, f"the learned normal is off the true one (cosine {cosine_to_true:.3f})"
