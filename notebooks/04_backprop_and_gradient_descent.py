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
# # 04 · Backpropagation and gradient descent
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/dl-course-kit/dl-course-kit/blob/main/notebooks/04_backprop_and_gradient_descent.ipynb)
#
# Training a network means repeating two things: compute the gradient of the loss with respect
# to every weight (**backpropagation**, the chain rule applied from the output back to the
# input), then move the weights against it (**gradient descent** and its variants). This
# notebook does both by hand, then compares the optimisers Keras offers.
#
# ## Learning goals
#
# - apply the **chain rule** to a tiny network by hand and check the result with `GradientTape`;
# - write a **training loop from scratch**: forward pass, backward pass, update;
# - compare **full-batch, stochastic and mini-batch** gradient descent;
# - recognise a learning rate that is **too small, right, or too large** from the loss curve;
# - explain **momentum** and **Adam**, and watch optimisers meet **saddle points** and
#   **local minima** on a 2-D loss surface.

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
print(f"Python {sys.version.split()[0]} | NumPy {np.__version__} | TensorFlow {tf.__version__}"
      f" | Keras {keras.__version__} | Colab: {IN_COLAB}")
keras.utils.set_random_seed(42)  # seeds Python, NumPy and TensorFlow at once

# %% [markdown]
# ## Parameters
#
# The knobs of this run. `FAST = True` is what the tests and live demos use: fewer epochs and
# optimiser steps. Everything is NumPy on a small network, so even the full lesson is quick.

# %% tags=["parameters"]
FAST = False  # True: fewer epochs and steps (tests, live demos)
N_TRAIN = 256  # training points of the 1-D regression problem
HIDDEN = 16  # hidden units of the small network
EPOCHS = 60  # passes over the data when comparing batch sizes and optimisers
SURFACE_STEPS = 300  # optimiser steps on the 2-D loss surface

# %%
if FAST:
    EPOCHS, SURFACE_STEPS = 25, 150
print(f"FAST={FAST}: {N_TRAIN} points, {HIDDEN} hidden units, {EPOCHS} epochs, "
      f"{SURFACE_STEPS} surface steps")

# %% [markdown]
# ## 1. The chain rule on a tiny network, by hand
#
# One input $x$, two hidden $\tanh$ units, one linear output, squared error:
#
# $$z = W_1 x + b_1,\quad h = \tanh(z),\quad \hat y = w_2^\top h + b_2,\quad
#   L = (\hat y - y)^2 .$$
#
# The **forward pass** computes $z, h, \hat y, L$ in this order and keeps them. The **backward
# pass** walks the same graph in reverse, multiplying local derivatives (the chain rule):
#
# $$\frac{\partial L}{\partial \hat y} = 2(\hat y - y),\qquad
#   \frac{\partial L}{\partial w_2} = \frac{\partial L}{\partial \hat y}\,h,\qquad
#   \frac{\partial L}{\partial b_2} = \frac{\partial L}{\partial \hat y},$$
#
# $$\frac{\partial L}{\partial h} = \frac{\partial L}{\partial \hat y}\,w_2,\qquad
#   \frac{\partial L}{\partial z} = \frac{\partial L}{\partial h}\odot(1 - h^2),\qquad
#   \frac{\partial L}{\partial W_1} = \frac{\partial L}{\partial z}\,x,\qquad
#   \frac{\partial L}{\partial b_1} = \frac{\partial L}{\partial z}.$$
#
# Each gradient reuses the one computed just before it: that is why backpropagation costs about
# as much as one forward pass, whatever the number of weights.
#
# Two observations make the formulas less mysterious. First, every gradient is a product of an
# **upstream** signal (how much the loss changes when this node's output changes) and a **local**
# derivative (how the node's output changes with its own inputs). A $\tanh$ node only needs to know
# its own output $h$ to produce $1 - h^2$; it never needs to know what comes after it. This locality
# is what lets a framework differentiate any composition of layers: each operation brings its own
# small backward rule, and the engine chains them. Second, the backward pass needs the values of
# the forward pass ($h$ in $\partial L/\partial w_2$, $x$ in $\partial L/\partial W_1$). That is why
# training uses much more memory than inference: all intermediate activations of a batch are kept
# until the backward pass has used them.
#
# The cell below does the bookkeeping explicitly and compares it to `tf.GradientTape`. Both sides
# compute in float64 here, so the printed gaps are at the level of rounding error (around $10^{-16}$,
# or exactly 0); in float32 expect agreement to about 6 or 7 significant digits. A real bug gives a
# mismatch in the first digit, or a gradient of the right size but the wrong sign.

# %%
x0, y0 = 0.5, 1.0
W1 = np.array([0.8, -1.2])
b1 = np.array([0.1, 0.3])
w2 = np.array([1.5, -0.7])
b2 = 0.2

# forward pass, keeping every intermediate value
z = W1 * x0 + b1
h = np.tanh(z)
y_hat = w2 @ h + b2
loss = (y_hat - y0) ** 2
print(f"forward: z={np.round(z, 4)}, h={np.round(h, 4)}, y_hat={y_hat:.4f}, L={loss:.4f}")

# backward pass, from the loss back to the inputs
d_yhat = 2 * (y_hat - y0)
d_w2 = d_yhat * h
d_b2 = d_yhat
d_h = d_yhat * w2
d_z = d_h * (1 - h**2)
d_W1 = d_z * x0
d_b1 = d_z
hand = {"W1": d_W1, "b1": d_b1, "w2": d_w2, "b2": np.array(d_b2)}

# the same gradients from GradientTape
variables = {name: tf.Variable(value, dtype=tf.float64) for name, value in
             {"W1": W1, "b1": b1, "w2": w2, "b2": b2}.items()}
with tf.GradientTape() as tape:
    h_tf = tf.tanh(variables["W1"] * x0 + variables["b1"])
    loss_tf = (tf.reduce_sum(variables["w2"] * h_tf) + variables["b2"] - y0) ** 2
tape_grads = dict(zip(variables, tape.gradient(loss_tf, list(variables.values()))))

hand_tape_gap = 0.0
for name in hand:
    gap = float(np.max(np.abs(hand[name] - tape_grads[name].numpy())))
    hand_tape_gap = max(hand_tape_gap, gap)
    print(f"dL/d{name:3s} by hand {np.round(hand[name], 5)!s:28s} tape "
          f"{np.round(tape_grads[name].numpy(), 5)!s:28s} gap {gap:.1e}")

# %% [markdown]
# ### Exercise 1 — the gradient of a sigmoid output with cross-entropy
#
# For binary classification the output is $p = \sigma(z)$ and the loss is the binary
# cross-entropy averaged over a batch of $n$ examples,
# $L = -\frac{1}{n}\sum_i \big[y_i \log p_i + (1 - y_i)\log(1 - p_i)\big]$. Apply the chain rule
# ($\sigma'(z) = \sigma(z)(1 - \sigma(z))$) and simplify: write `bce_grad_wrt_logits(z, y)`
# returning $\partial L / \partial z_i$ for every example, as a NumPy array shaped like `z`.
# The result is remarkably simple, which is why frameworks fuse the sigmoid and the loss.

# %% nbgrader={"grade": false, "grade_id": "ex1_bce_grad", "locked": false, "schema_version": 3, "solution": true, "task": false}
def bce_grad_wrt_logits(z, y):
    """dL/dz for L = mean binary cross-entropy of sigmoid(z) against labels y."""
    z = np.asarray(z, dtype=float)
    y = np.asarray(y, dtype=float)
    ### BEGIN SOLUTION
    return (1 / (1 + np.exp(-z)) - y) / z.size
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex1_bce_grad_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
np.testing.assert_allclose(bce_grad_wrt_logits([0.0, 0.0], [1.0, 0.0]), [-0.25, 0.25], atol=1e-7)
### BEGIN HIDDEN TESTS
_z = tf.constant(np.random.default_rng(5).normal(0, 2, size=12))
_y = tf.constant(np.random.default_rng(6).integers(0, 2, size=12).astype(float))
with tf.GradientTape() as _tape:
    _tape.watch(_z)
    _loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=_y, logits=_z))
np.testing.assert_allclose(bce_grad_wrt_logits(_z.numpy(), _y.numpy()), _tape.gradient(_loss, _z),
                           rtol=1e-6, atol=1e-9)
### END HIDDEN TESTS

# %% [markdown]
# ## 2. A training loop from scratch
#
# The same network, now with a hidden layer of `HIDDEN` units and a **batch** of inputs at once
# (rows of $X$). In matrix form the backward pass becomes
#
# $$\delta_{\hat y} = \tfrac{2}{n}(\hat y - y),\quad \nabla W_2 = H^\top \delta_{\hat y},\quad
#   \delta_Z = (\delta_{\hat y} W_2^\top) \odot (1 - H^2),\quad \nabla W_1 = X^\top \delta_Z,$$
#
# and the biases get the column sums of the $\delta$s. The task: learn $y = \sin(x)$ plus noise
# on $[-3, 3]$. A **training loop** is just: take a batch, forward, backward, update, repeat.
#
# Check the shapes, because they are the best guard against mistakes in matrix backpropagation.
# With a batch of $n$ rows, $X$ is $(n, 1)$, $W_1$ is $(1, \text{HIDDEN})$, $H$ is
# $(n, \text{HIDDEN})$, and every gradient must have exactly the shape of the parameter it updates:
# $X^\top \delta_Z$ is $(1, n) \times (n, \text{HIDDEN})$, the shape of $W_1$. The transposes are
# not a trick to remember; they are the only way the shapes fit, and the sum over the batch that the
# matrix product performs is the sum over examples in the average loss.

# %%
rng = np.random.default_rng(0)
X_reg = rng.uniform(-3, 3, size=(N_TRAIN, 1))
Y_reg = np.sin(X_reg) + rng.normal(0, 0.1, size=(N_TRAIN, 1))


def init_params(seed=0, hidden=HIDDEN):
    r = np.random.default_rng(seed)
    return {"W1": r.normal(0, 1.0, (1, hidden)), "b1": r.uniform(-2, 2, hidden),
            "W2": r.normal(0, 1 / np.sqrt(hidden), (hidden, 1)), "b2": np.zeros(1)}


def forward(params, X):
    H = np.tanh(X @ params["W1"] + params["b1"])
    return H, H @ params["W2"] + params["b2"]


def loss_and_grads(params, X, Y):
    """Mean squared error of the network on (X, Y) and its gradient for every parameter."""
    H, Y_hat = forward(params, X)
    loss = np.mean((Y_hat - Y) ** 2)
    d_yhat = 2 * (Y_hat - Y) / len(X)
    d_Z = (d_yhat @ params["W2"].T) * (1 - H**2)
    grads = {"W2": H.T @ d_yhat, "b2": d_yhat.sum(axis=0),
             "W1": X.T @ d_Z, "b1": d_Z.sum(axis=0)}
    return loss, grads


# Check the batched backward pass against the tape once.
params = init_params()
_, np_grads = loss_and_grads(params, X_reg, Y_reg)
tf_params = {k: tf.Variable(v) for k, v in params.items()}
with tf.GradientTape() as tape:
    H_tf = tf.tanh(X_reg @ tf_params["W1"] + tf_params["b1"])
    tf_loss = tf.reduce_mean((H_tf @ tf_params["W2"] + tf_params["b2"] - Y_reg) ** 2)
batch_gap = max(float(np.max(np.abs(np_grads[k] - g.numpy())))
                for k, g in zip(tf_params, tape.gradient(tf_loss, list(tf_params.values()))))
print(f"batched backward pass vs tape: largest difference {batch_gap:.1e}")
hand_tape_gap = max(hand_tape_gap, batch_gap)


# %%
def train_loop(params, X, Y, epochs, batch_size, lr, seed=0):
    """Mini-batch gradient descent. Returns the full-data loss after every update."""
    params = {k: v.copy() for k, v in params.items()}
    r = np.random.default_rng(seed)
    history = [loss_and_grads(params, X, Y)[0]]
    for _epoch in range(epochs):
        order = r.permutation(len(X))  # reshuffle every epoch
        for start in range(0, len(X), batch_size):
            batch = order[start:start + batch_size]
            _, grads = loss_and_grads(params, X[batch], Y[batch])  # forward + backward
            for k in params:  # update
                params[k] -= lr * grads[k]
            history.append(loss_and_grads(params, X, Y)[0])
    return params, np.array(history)


trained, hist = train_loop(init_params(), X_reg, Y_reg, epochs=EPOCHS, batch_size=32, lr=0.1)
print(f"MSE: {hist[0]:.3f} before, {hist[-1]:.4f} after {EPOCHS} epochs "
      f"(noise floor 0.01)")

fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
axes[0].plot(hist)
axes[0].set(title="From-scratch training loop", xlabel="update step", ylabel="training MSE",
            yscale="log")
grid = np.linspace(-3, 3, 200)[:, None]
axes[1].scatter(X_reg, Y_reg, s=6, color="grey", label="data")
axes[1].plot(grid, forward(trained, grid)[1], color="C3", label="network")
axes[1].set(title="The fitted network", xlabel="x", ylabel="y")
axes[1].legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 3. Full-batch, stochastic and mini-batch gradient descent
#
# The loss is an average over the training set, so its gradient is too. We can estimate it from
# all $n$ examples (**full-batch**: exact but one update per epoch), from one example
# (**stochastic**, SGD: $n$ noisy updates per epoch), or from a **mini-batch** of, say, 32
# (a few accurate-enough updates per epoch, and what GPUs are built for). Same data, same
# number of epochs; single examples give such noisy gradients that they need a smaller
# learning rate:

# %%
batch_runs = {}
for label, batch_size, lr in (("stochastic (1), lr 0.01", 1, 0.01),
                              ("mini-batch (32), lr 0.1", 32, 0.1),
                              ("full batch (256), lr 0.1", N_TRAIN, 0.1)):
    _, batch_runs[label] = train_loop(init_params(), X_reg, Y_reg, EPOCHS, batch_size, lr)
    print(f"{label:25s}: {len(batch_runs[label]) - 1:6d} updates, final MSE "
          f"{batch_runs[label][-1]:.4f}")

fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
for label, h in batch_runs.items():
    axes[0].plot(np.linspace(0, EPOCHS, len(h)), h, label=label, lw=1, alpha=0.8)
    axes[1].plot(np.arange(len(h)), h, label=label, lw=1, alpha=0.8)
axes[0].set(title="Loss per epoch (same data seen)", xlabel="epoch", ylabel="training MSE",
            yscale="log")
axes[1].set(title="Loss per update (same number of steps)", xlabel="update step",
            ylabel="training MSE", yscale="log", xscale="log")
for ax in axes:
    ax.legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# Per **epoch**, the full batch is slowest: it updates the weights only once per pass over the
# data, while smaller batches update many times for the same amount of data. Per **update**, the
# larger the batch the better each step, since it uses a more exact gradient; the stochastic
# curve is noisy and needs thousands of updates. Mini-batches are the compromise used in practice.
#
# ## 4. The learning rate: too small, right, too large
#
# The learning rate $\eta$ is the most important hyper-parameter. On a parabola
# $L(\theta) = \frac{a}{2}\theta^2$, a step gives $\theta \leftarrow (1 - \eta a)\,\theta$: the
# iterates shrink if $0 < \eta < 2/a$, oscillate if $\eta > 1/a$, and **diverge** if
# $\eta > 2/a$. Networks behave the same way along their steepest directions.
#
# The number $a$ is the **curvature**, the second derivative of the loss. A network's loss has a
# different curvature along every direction in weight space, and a single learning rate has to
# suit all of them at once: it must stay below $2/a_{\max}$ for the steepest direction, or training
# diverges, and then the flattest directions, whose error is multiplied at every step by
# $1 - \eta a_{\min}$, a factor close to 1, take a long time to converge. The ratio
# $a_{\max}/a_{\min}$, the **condition number**, measures how hard a problem is for plain gradient
# descent. Below, the left plot shows the three regimes on the
# network (a rate about 30 times smaller descends much more slowly and ends the same number of
# epochs well above the good rate's loss; a rate 15 times larger blows the loss up to `nan`),
# and the right plot shows the same three behaviours on the parabola $L = \theta^2$, where $a = 2$:
# steady descent, oscillation across the minimum with shrinking amplitude, and oscillation that grows.

# %%
lr_runs = {}
for lr in (0.003, 0.1, 1.5):
    with np.errstate(over="ignore", invalid="ignore"):
        _, h = train_loop(init_params(), X_reg, Y_reg, EPOCHS, 32, lr)
    lr_runs[lr] = h
    print(f"lr={lr:<6}: final MSE {h[-1]:.4g}")

fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
names = {0.003: "too small", 0.1: "about right", 1.5: "too large"}
for lr, h in lr_runs.items():
    axes[0].plot(np.clip(np.nan_to_num(h, nan=1e6), None, 1e6), label=f"lr={lr} ({names[lr]})")
axes[0].set(title="The network: loss for three learning rates", xlabel="update step",
            ylabel="training MSE (clipped at 1e6)", yscale="log")
axes[0].legend(fontsize=8)
theta = np.linspace(-2.2, 2.2, 100)
axes[1].plot(theta, theta**2, color="grey")
for lr, colour in ((0.1, "C0"), (0.8, "C1"), (1.05, "C3")):  # a = 2, so 2/a = 1
    path = [1.8]
    for _ in range(8):
        path.append(path[-1] - lr * 2 * path[-1])
    path = np.array(path)
    axes[1].plot(path, path**2, "o-", color=colour, ms=4, lw=1, label=f"lr={lr}")
axes[1].set(title=r"Gradient descent on $L=\theta^2$ (diverges for lr > 1)", xlabel=r"$\theta$",
            ylabel=r"$L(\theta)$", xlim=(-2.6, 2.6), ylim=(0, 6))
axes[1].legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 5. Momentum and Adam
#
# Plain gradient descent zig-zags across narrow valleys and crawls along flat ones. Two fixes,
# both in every framework:
#
# - **Momentum** keeps a running velocity: $v \leftarrow \beta v + g$,
#   $\theta \leftarrow \theta - \eta v$ (with $\beta \approx 0.9$). Oscillating components of the
#   gradient cancel, consistent ones add up.
# - **Adam** keeps running averages of the gradient and of its square,
#   $m \leftarrow \beta_1 m + (1 - \beta_1) g$ and $v \leftarrow \beta_2 v + (1 - \beta_2) g^2$,
#   corrects their bias towards 0 in the first steps, $\hat m = m / (1 - \beta_1^t)$ and
#   $\hat v = v / (1 - \beta_2^t)$, and steps by
#   $\theta \leftarrow \theta - \eta\,\hat m / (\sqrt{\hat v} + \epsilon)$: every parameter gets
#   its own step size, large where gradients are small and steady.
#
# Momentum answers the condition-number problem of section 4 directly. In a narrow valley the
# gradient flips sign across the valley at every step, so those components of the velocity cancel,
# while the small gradient along the valley floor points the same way step after step and
# accumulates, up to $1/(1-\beta) = 10$ times the plain step for $\beta = 0.9$. Adam attacks the same
# problem differently: dividing by $\sqrt{\hat v}$ rescales every parameter's step to roughly
# $\eta$ whatever the size of its gradients, so parameters with tiny gradients are not left behind.
# The price is that Adam's effective step no longer shrinks with the gradient, which is one reason
# its default learning rate, $10^{-3}$, is much smaller than typical SGD rates.

# %% [markdown]
# ### Exercise 2 — one Adam step
#
# Write `adam_step(param, grad, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-7)` that applies
# the update above at step number `t` (starting at 1) and returns the new
# `(param, m, v)`. It must work element-wise on NumPy arrays of any shape.

# %% nbgrader={"grade": false, "grade_id": "ex2_adam_step", "locked": false, "schema_version": 3, "solution": true, "task": false}
def adam_step(param, grad, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-7):
    """One Adam update; returns (new_param, new_m, new_v)."""
    ### BEGIN SOLUTION
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return param - lr * m_hat / (np.sqrt(v_hat) + eps), m, v
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex2_adam_step_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
_p, _m, _v = adam_step(np.array([1.0, -2.0]), np.array([0.5, -4.0]), np.zeros(2), np.zeros(2),
                       t=1, lr=0.1)
np.testing.assert_allclose(_p, [0.9, -1.9], rtol=1e-5)  # first step: lr * sign(grad)
np.testing.assert_allclose(_m, [0.05, -0.4], rtol=1e-6)
### BEGIN HIDDEN TESTS
np.testing.assert_allclose(_v, [0.00025, 0.016], rtol=1e-6)
_r = np.random.default_rng(11)
_theta0 = _r.normal(size=(3, 2))
_var = keras.Variable(_theta0.copy(), dtype="float64")
_opt = keras.optimizers.Adam(learning_rate=0.05)
_theta, _m, _v = _theta0.copy(), np.zeros((3, 2)), np.zeros((3, 2))
for _t in range(1, 6):
    _g = _r.normal(size=(3, 2))
    _opt.apply_gradients([(tf.constant(_g), _var)])
    _theta, _m, _v = adam_step(_theta, _g, _m, _v, _t, lr=0.05)
np.testing.assert_allclose(_theta, _var.numpy(), rtol=1e-4, atol=1e-6)
### END HIDDEN TESTS

# %% [markdown]
# Now the three optimisers train the network with the same mini-batches and the same number of
# updates, each with a typical learning rate for it.

# %%
def train_with(optimizer, params, X, Y, epochs, batch_size=32, seed=0):
    """Mini-batch training with 'sgd', 'momentum' or 'adam'. Returns the loss after each update."""
    params = {k: v.copy() for k, v in params.items()}
    state = {k: (np.zeros_like(p), np.zeros_like(p)) for k, p in params.items()}
    r = np.random.default_rng(seed)
    history, t = [loss_and_grads(params, X, Y)[0]], 0
    for _epoch in range(epochs):
        order = r.permutation(len(X))
        for start in range(0, len(X), batch_size):
            batch = order[start:start + batch_size]
            _, grads = loss_and_grads(params, X[batch], Y[batch])
            t += 1
            for k, g in grads.items():
                m, v = state[k]
                if optimizer == "sgd":
                    params[k] -= 0.05 * g
                elif optimizer == "momentum":
                    m = 0.9 * m + g
                    params[k] -= 0.05 * m
                else:
                    params[k], m, v = adam_step(params[k], g, m, v, t, lr=0.01)
                state[k] = (m, v)
            history.append(loss_and_grads(params, X, Y)[0])
    return np.array(history)


opt_runs = {name: train_with(name, init_params(), X_reg, Y_reg, EPOCHS)
            for name in ("sgd", "momentum", "adam")}
for name, h in opt_runs.items():
    print(f"{name:8s}: final MSE {h[-1]:.4f}")

fig, ax = plt.subplots(figsize=(6.5, 3.8))
for name, label in (("sgd", "SGD, lr 0.05"), ("momentum", "momentum 0.9, lr 0.05"),
                    ("adam", "Adam, lr 0.01")):
    ax.plot(opt_runs[name], label=label, lw=1)
ax.set(title="Same updates, three optimisers", xlabel="update step", ylabel="training MSE",
       yscale="log")
ax.legend()
plt.show()

# %% [markdown]
# ## 6. Saddle points and local minima on a 2-D loss surface
#
# A real network's loss lives in millions of dimensions, but 2-D surfaces show the two shapes
# that slow optimisers down. Take
#
# $$L(a, b) = (a^2 - 1)^2 + \tfrac12 b^2 + 0.25\,a .$$
#
# It has a **global minimum** near $a = -1.03$, a shallower **local minimum** near $a = 0.97$,
# and between them a **saddle point** near $a = 0.06$, $b = 0$: a minimum along $b$ but a
# maximum along $a$. Near a saddle the gradient is tiny, so plain gradient descent slows to a
# crawl before it escapes. In high dimensions saddle points are far more common than bad local
# minima, which is one reason momentum and Adam help.
#
# Below, the three optimisers start from the same point on the right-hand slope and run
# `SURFACE_STEPS` steps; a fourth path, plain gradient descent started just beside the ridge
# that leads to the saddle, shows the slowdown there. Note where each one ends: plain gradient
# descent and Adam settle in the nearest (local) minimum, while momentum carries enough speed
# through the flat region around the saddle to reach the deeper one. Momentum is not always
# luckier (start it elsewhere and it may stop in the local minimum too), but it shows that the
# optimiser, not only the loss, decides which minimum a network ends in.

# %%
def surface(a, b):
    return (a**2 - 1) ** 2 + 0.5 * b**2 + 0.25 * a


def surface_grad(p):
    a, b = p
    return np.array([4 * a * (a**2 - 1) + 0.25, b])


def run_on_surface(optimizer, start, steps, lr):
    p = np.array(start, dtype=float)
    m, v = np.zeros(2), np.zeros(2)
    path = [p.copy()]
    for t in range(1, steps + 1):
        g = surface_grad(p)
        if optimizer == "sgd":
            p = p - lr * g
        elif optimizer == "momentum":
            m = 0.9 * m + g
            p = p - lr * m
        else:
            p, m, v = adam_step(p, g, m, v, t, lr=lr)
        path.append(p.copy())
    return np.array(path)


START = (1.6, 1.8)
SADDLE_A = sorted(np.roots([4, 0, -4, 0.25]).real)[1]  # dL/da = 4a^3 - 4a + 0.25 = 0
paths = {"gradient descent (lr 0.02)": run_on_surface("sgd", START, SURFACE_STEPS, 0.02),
         "momentum 0.9 (lr 0.02)": run_on_surface("momentum", START, SURFACE_STEPS, 0.02),
         "Adam (lr 0.05)": run_on_surface("adam", START, SURFACE_STEPS, 0.05),
         "GD near the saddle ridge": run_on_surface("sgd", (SADDLE_A + 1e-3, 2.0),
                                                    SURFACE_STEPS, 0.02)}
for name, path in paths.items():
    a_end, b_end = path[-1]
    where = "global minimum" if a_end < -0.5 else "local minimum" if a_end > 0.5 else "near saddle"
    print(f"{name:27s} ends at a={a_end:+.3f}, b={b_end:+.3f}: L={surface(a_end, b_end):+.3f}"
          f" ({where})")

# %%
A, B = np.meshgrid(np.linspace(-1.8, 1.8, 300), np.linspace(-2.2, 2.2, 300))
fig, axes = plt.subplots(1, 2, figsize=(13, 4.8), gridspec_kw={"width_ratios": [1.4, 1]})
cs = axes[0].contour(A, B, surface(A, B), levels=np.linspace(-0.3, 4, 25), cmap="viridis",
                     linewidths=0.8)
fig.colorbar(cs, ax=axes[0], label="L(a, b)")
COLOURS = ("C3", "C1", "C0", "C4")
for (name, path), colour in zip(paths.items(), COLOURS):
    axes[0].plot(path[:, 0], path[:, 1], ".-", color=colour, ms=2, lw=1, label=name)
axes[0].plot(*START, "k*", ms=12, label="start")
for a_c, label in ((-1.03, "global min"), (0.97, "local min"), (SADDLE_A, "saddle")):
    axes[0].plot(a_c, 0, "kx", ms=9)
    axes[0].annotate(label, (a_c, 0), textcoords="offset points", xytext=(-20, -16), fontsize=8)
axes[0].set(title="Optimiser paths on a surface with a saddle and two minima", xlabel="a",
            ylabel="b")
axes[0].legend(fontsize=8, loc="upper left")
for (name, path), colour in zip(paths.items(), COLOURS):
    axes[1].plot(surface(path[:, 0], path[:, 1]), color=colour, label=name)
axes[1].set(title="Loss along each path", xlabel="step", ylabel="L(a, b)")
axes[1].legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# The lesson of this figure reaches beyond two dimensions. The final point depends on the path, and
# the path depends on the optimiser, its learning rate and the starting point. In a real network
# many different minima give similar losses, so which one training lands in matters less for the
# training loss than for properties such as how well the model generalises, a question that
# notebooks 05 and 06 come back to.
#
# ### Exercise 3 (conceptual) — the largest safe learning rate
#
# Gradient descent minimises $L(\theta) = 2\theta^2$ (so $a = 4$ in the notation of section 4),
# starting from $\theta = 1$. What is the **smallest** learning rate $\eta$ at which the iterates no
# longer converge to 0? Reason with the factor $(1 - \eta a)$ and assign the number to
# `ETA_CRITICAL` (a float).

# %% nbgrader={"grade": false, "grade_id": "concept_critical_learning_rate", "locked": false, "schema_version": 3, "solution": true, "task": false}
ETA_CRITICAL = None  # a float
### BEGIN SOLUTION
ETA_CRITICAL = 0.5  # the factor 1 - 4*eta reaches -1 at eta = 2/a = 0.5
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "concept_critical_learning_rate_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
assert isinstance(ETA_CRITICAL, (int, float)) and ETA_CRITICAL > 0, "a positive number"
### BEGIN HIDDEN TESTS
assert abs(ETA_CRITICAL - 0.5) < 1e-9, "theta is multiplied by 1 - 4*eta; |1 - 4*eta| >= 1 once eta >= 2/a = 0.5"
### END HIDDEN TESTS

# %% [markdown]
# ## Common pitfalls
#
# - **Trusting a hand-written gradient without checking it.** Compare it once with
#   `tf.GradientTape` or with finite differences, $\big(L(\theta + \epsilon) - L(\theta - \epsilon)\big)/2\epsilon$,
#   on a few random inputs. Wrong signs and missing factors of 2 or $1/n$ are the usual bugs.
# - **Shape bugs hidden by broadcasting.** A target of shape `(n,)` against predictions `(n, 1)`
#   broadcasts to `(n, n)`; the loss is finite and the gradients are wrong. Assert shapes in any
#   loop you write yourself.
# - **Forgetting to average over the batch.** A loss summed instead of averaged makes the gradient
#   grow with the batch size, so a learning rate tuned for batches of 32 diverges with 256.
# - **Changing the batch size and keeping the learning rate.** Smaller batches give noisier
#   gradients and often need a smaller rate; larger batches allow a larger one. Retune when either
#   changes, and compare optimisers at their own good rates, not at a shared one.
# - **Reading a `nan` loss as a bug in the model.** Most often it is a learning rate that is too
#   large: the loss grows geometrically, overflows and becomes `nan`. Divide the rate by 10 first.
# - **Computing the sigmoid and the log separately.** $\log\sigma(z)$ underflows for very negative
#   $z$; use the fused loss (`from_logits=True`), whose gradient is the simple $p - y$ of
#   exercise 1.
# - **Evaluating optimisers on one seed or one learning rate.** Their ranking can change with both;
#   the comparison here is a demonstration, not a benchmark.
#
# ## Further reading
#
# - Rumelhart, Hinton & Williams (1986), "Learning representations by back-propagating errors",
#   *Nature* 323.
# - Robbins & Monro (1951), "A stochastic approximation method", *Annals of Mathematical
#   Statistics* 22 (the origin of stochastic gradient descent).
# - Polyak (1964), "Some methods of speeding up the convergence of iteration methods", *USSR
#   Computational Mathematics and Mathematical Physics* 4 (the heavy-ball momentum).
# - Kingma & Ba (2015), "Adam: a method for stochastic optimization", ICLR.
# - Dauphin, Pascanu, Gulcehre, Cho, Ganguli & Bengio (2014), "Identifying and attacking the saddle
#   point problem in high-dimensional non-convex optimization", NeurIPS.
# - Goodfellow, Bengio & Courville (2016), *Deep Learning*, MIT Press, section 6.5
#   (back-propagation) and chapter 8 (optimization for training deep models).

# %% [markdown]
# ## What we reached
#
# The last cell checks the lesson worked: the gradients computed by hand match
# `GradientTape`, and with the same mini-batches and the same number of updates, momentum and
# Adam both reach a lower training loss than plain SGD. The value is the worse of the two
# divided by SGD's loss: below 1 means both beat it.
#
# Recorded by `benchmarks/notebooks.py` for `adaptive_over_sgd_loss_ratio`: FAST mode 0.7499 (target ≤ 0.9, 7 s, 2026-11-23); full lesson 0.8433 (target ≤ 0.9, 33 s, 2026-11-22).

# %% tags=["check"]
ratio = max(opt_runs["momentum"][-1], opt_runs["adam"][-1]) / opt_runs["sgd"][-1]
RESULT = {"metric": "adaptive_over_sgd_loss_ratio", "value": round(float(ratio), 4),
          "target": 0.9, "higher_is_better": False, "hand_vs_tape_gap": float(hand_tape_gap)}
print(RESULT)
assert hand_tape_gap < 1e-6, f"hand gradients differ from the tape by {hand_tape_gap}"
assert RESULT["value"] <= RESULT["target"], f"ratio {RESULT['value']} above {RESULT['target']}"
