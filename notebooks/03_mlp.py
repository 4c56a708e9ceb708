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
# # 03 · Multi-layer perceptrons
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/dl-course-kit/dl-course-kit/blob/main/notebooks/03_mlp.ipynb)
#
# A single neuron draws a straight line, so it cannot learn XOR (notebook 02). Stack neurons in
# **layers**, put a **non-linear activation** between them, and the network can draw any
# boundary and approximate any reasonable function. This is the **multi-layer perceptron**
# (MLP), the dense network at the heart of every model in this course.
#
# ## Learning goals
#
# - solve XOR with one **hidden layer** in Keras, and read what the hidden units compute;
# - see how decision regions grow more complex with **1, 2 and 3 layers**;
# - plot the usual **activation functions** and their **derivatives**, and say why ReLU won;
# - watch the **universal approximation** theorem at work as a hidden layer gets wider;
# - count parameters and compare **deep** and **wide** networks at equal budget.

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
tf.get_logger().setLevel("ERROR")  # we build many small models: silence retracing notices

# %% [markdown]
# ## Parameters
#
# The knobs of this run. `FAST = True` is what the tests and live demos use: fewer gradient
# steps and fewer network sizes. The default is the full lesson.

# %% tags=["parameters"]
FAST = False  # True: fewer training steps and sizes (tests, live demos)
STEPS = 3_000  # gradient steps to train each small network
WIDTHS = [1, 3, 10, 50]  # hidden-layer widths for the universal-approximation experiment
WIDE_WIDTHS = [12, 48, 192, 768]  # depth vs width: one hidden layer of these widths ...
DEEP_WIDTHS = [4, 8, 16, 32]  # ... against three hidden layers of these widths
N_POINTS = 600  # points of the 2-D classification problem

# %%
if FAST:
    STEPS, WIDE_WIDTHS, DEEP_WIDTHS, N_POINTS = 1_000, [48, 768], [8, 32], 400
print(f"FAST={FAST}: {STEPS} steps per network, widths {WIDTHS}, "
      f"wide {WIDE_WIDTHS} vs deep {DEEP_WIDTHS}")

# %% [markdown]
# All the networks here are tiny, so the cost of training is in Keras' per-step bookkeeping,
# not in the arithmetic. The helper below streams the data as an endless `tf.data` pipeline,
# trains for a fixed number of **gradient steps** (the loss is recorded 20 times), and lets
# Keras run many steps per call with `steps_per_execution`.

# %%
def train(model, x, y, steps=STEPS, batch_size=None, lr=0.01, loss="mse"):
    """Compile and train `model` for `steps` Adam steps on (x, y); return the Keras history.

    batch_size=None uses all the data at every step (full-batch gradient descent)."""
    per_epoch = max(1, steps // 20)
    model.compile(optimizer=keras.optimizers.Adam(lr), loss=loss,
                  steps_per_execution=per_epoch)
    data = (tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=0)
            .batch(batch_size or len(x)).repeat())
    return model.fit(data, epochs=20, steps_per_epoch=per_epoch, verbose=0)


# %% [markdown]
# ## 1. A hidden layer solves XOR
#
# XOR is not linearly separable in the input space $(x_1, x_2)$. But it is the AND of two
# separable functions, $\text{XOR} = \text{OR} \wedge \text{NAND}$. Two hidden neurons can
# compute OR and NAND, and an output neuron their AND: the hidden layer **re-represents** the
# input in a space where the problem is linear.
#
# First by hand, with the threshold units of notebook 02: $h_1 = \mathrm{step}(x_1 + x_2 - 0.5)$
# is OR, $h_2 = \mathrm{step}(-x_1 - x_2 + 1.5)$ is NAND, and the output
# $\mathrm{step}(h_1 + h_2 - 1.5)$ is their AND. In the hidden space $(h_1, h_2)$ the corners
# $(0,1)$ and $(1,0)$ both land on $(1, 1)$, and a line separates them from the others.

# %%
X_XOR = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype="float32")
Y_XOR = np.array([0, 1, 1, 0], dtype="float32")
W1_HAND, B1_HAND = np.array([[1.0, -1.0], [1.0, -1.0]]), np.array([-0.5, 1.5])
W2_HAND, B2_HAND = np.array([1.0, 1.0]), -1.5
H_HAND = (X_XOR @ W1_HAND + B1_HAND > 0).astype(float)  # hidden layer: (OR, NAND)
out_hand = (H_HAND @ W2_HAND + B2_HAND > 0).astype(float)
print("hidden (OR, NAND):", H_HAND.tolist(), "-> output", out_hand, "target", Y_XOR)

fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
nudge = np.array([[0, 0], [-0.1, 0], [0.1, 0], [0, 0]])  # (0,1) and (1,0) coincide in h-space
panels = [(axes[0], X_XOR, "Input space: no line separates XOR", "$x_1$", "$x_2$"),
          (axes[1], H_HAND + nudge, "Hidden space: one line does", "$h_1$ = OR(x)",
           "$h_2$ = NAND(x)")]
for ax, points, title, xlabel, ylabel in panels:
    offsets = [(-20, 12), (-55, 12), (10, 12), (-20, 12)]  # keep the labels apart
    for p, x, t, off in zip(points, X_XOR.astype(int).tolist(), Y_XOR, offsets):
        ax.scatter(*p, s=150, color="C1" if t else "C0", edgecolors="k")
        ax.annotate(str(tuple(x)), p, textcoords="offset points", xytext=off)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel, xlim=(-0.4, 1.5), ylim=(-0.4, 1.5))
    ax.set_aspect("equal")
line = np.array([-0.4, 1.5])
axes[1].plot(line, (-B2_HAND - W2_HAND[0] * line) / W2_HAND[1], "k--", label="output unit's line")
axes[1].legend(loc="lower left", fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# A network with hidden layer $h = \phi(W_1 x + b_1)$ and output
# $\hat y = \sigma(w_2^\top h + b_2)$ **learns** such a representation by itself, with smooth
# units so that gradients exist. We train one with 4 $\tanh$ hidden units on the four corners,
# with the binary cross-entropy loss. (Two hidden units are enough in principle, but gradient
# descent then gets stuck in a poor solution for most random starts; a few spare units make
# training reliable, a first hint that over-parameterised networks are easier to optimise.)

# %%
xor_net = keras.Sequential([
    keras.Input(shape=(2,)),
    keras.layers.Dense(4, activation="tanh", name="hidden"),
    keras.layers.Dense(1, activation="sigmoid", name="output"),
])
xor_hist = train(xor_net, X_XOR, Y_XOR, steps=min(STEPS, 1_000), lr=0.05,
                 loss="binary_crossentropy")
xor_prob = xor_net.predict(X_XOR, verbose=0).ravel()
xor_accuracy = float(np.mean((xor_prob > 0.5) == Y_XOR))
for x, p in zip(X_XOR, xor_prob):
    print(f"x = {x.astype(int)} -> p(1) = {p:.3f}")
print(f"XOR accuracy: {xor_accuracy:.2f}")

# %% [markdown]
# The learned decision region is no longer a half-plane: the network has bent its boundary
# around the XOR corners.
#
# The learned network need not reproduce our hand-made OR and NAND. Its four $\tanh$ units can
# split the work differently, and two runs from different random starts usually find different
# hidden features that solve the problem equally well. What they share is the principle: the
# output unit is still a linear classifier, exactly the perceptron of notebook 02, but it reads the
# hidden activations instead of the raw inputs, and in that space XOR is linearly separable. Every
# deep network in this course has this shape, a learned representation followed by a simple
# (usually linear) readout.

# %%
g1, g2 = np.meshgrid(np.linspace(-0.5, 1.5, 150), np.linspace(-0.5, 1.5, 150))
grid = np.c_[g1.ravel(), g2.ravel()].astype("float32")
fig, ax = plt.subplots(figsize=(5.5, 4.3))
zone = xor_net.predict(grid, verbose=0).reshape(g1.shape)
cs = ax.contourf(g1, g2, zone, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.8)
fig.colorbar(cs, ax=ax, label="p(class 1)")
ax.scatter(*X_XOR.T, c=Y_XOR, cmap="RdBu_r", s=150, edgecolors="k")
ax.set(title="XOR: decision region of a trained 2-4-1 network", xlabel="$x_1$", ylabel="$x_2$")
plt.show()

# %% [markdown]
# ## 2. More layers, more complex regions
#
# Each layer composes the previous one: a first layer of ReLU units cuts the plane with lines,
# the next layer combines those half-planes into convex-ish pieces, the next combines pieces.
# Below, networks with **1, 2 and 3 dense layers** (0, 1 and 2 hidden layers of 16 ReLU units)
# on two interleaved spirals. One layer is logistic regression: a straight line.
#
# Why pieces? A ReLU network is **piecewise linear**: each unit is either off (output 0) or on
# (output proportional to its input), and inside a region of the plane where every unit keeps the
# same on/off state the whole network is one affine function. The boundaries between regions are
# where some unit switches, and the decision boundary is made of straight segments inside those
# regions. More units and more layers mean more regions, and so a boundary that can turn more often,
# which is what the spirals demand. Compare the three panels below with the test accuracies printed
# above: the single layer cannot do better than one straight cut across the spirals, while the
# hidden layers let the boundary wind along the arms.

# %%
def make_spirals(n, noise=0.25, turns=2.25, seed=0):
    rng = np.random.default_rng(seed)
    t = np.sqrt(rng.uniform(0.05, 1, n // 2)) * turns * 2 * np.pi  # angle along the arm
    arm = np.c_[t * np.cos(t), t * np.sin(t)] / (turns * np.pi)
    X = np.vstack([arm, -arm]) + rng.normal(0, noise / (turns * np.pi), (2 * (n // 2), 2))
    y = np.r_[np.zeros(n // 2), np.ones(n // 2)]
    return X.astype("float32"), y.astype("float32")


X_sp, y_sp = make_spirals(N_POINTS)
X_sp_test, y_sp_test = make_spirals(1000, seed=1)

depth_nets, depth_acc = {}, {}
for n_layers in (1, 2, 3):
    keras.utils.set_random_seed(n_layers)
    layers = [keras.Input(shape=(2,))]
    layers += [keras.layers.Dense(16, activation="relu") for _ in range(n_layers - 1)]
    layers += [keras.layers.Dense(1, activation="sigmoid")]
    net = keras.Sequential(layers)
    train(net, X_sp, y_sp, batch_size=64, lr=0.02, loss="binary_crossentropy")
    depth_nets[n_layers] = net
    depth_acc[n_layers] = float(np.mean((net.predict(X_sp_test, verbose=0).ravel() > 0.5)
                                        == y_sp_test))
    print(f"{n_layers} layer(s), {net.count_params():4d} parameters: "
          f"test accuracy {depth_acc[n_layers]:.3f}")

# %%
s1, s2 = np.meshgrid(np.linspace(-2.3, 2.3, 150), np.linspace(-2.3, 2.3, 150))
sgrid = np.c_[s1.ravel(), s2.ravel()].astype("float32")
fig, axes = plt.subplots(1, 3, figsize=(15, 4.8))
for ax, (n_layers, net) in zip(axes, depth_nets.items()):
    zone = net.predict(sgrid, verbose=0).reshape(s1.shape)
    ax.contourf(s1, s2, zone, levels=[0, 0.5, 1], colors=["#9ecae1", "#fdae6b"], alpha=0.8)
    ax.scatter(*X_sp.T, c=y_sp, cmap="coolwarm", s=6)
    ax.set(title=f"{n_layers} dense layer(s): test accuracy {depth_acc[n_layers]:.2f}",
           xlabel="$x_1$", ylabel="$x_2$")
    ax.set_aspect("equal")
fig.suptitle("Decision regions on two spirals as layers are added")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 3. Activation functions and their derivatives
#
# Without a non-linearity, stacked layers collapse into one: $W_2(W_1 x) = (W_2 W_1)\,x$ is
# still linear. The activation $\phi$ is what gives depth its power. The common ones:
#
# | name | $\phi(z)$ | $\phi'(z)$ |
# |---|---|---|
# | sigmoid | $\sigma(z) = 1/(1+e^{-z})$ | $\sigma(z)(1-\sigma(z)) \le 1/4$ |
# | tanh | $\tanh z$ | $1 - \tanh^2 z \le 1$ |
# | ReLU | $\max(0, z)$ | $1$ if $z>0$, else $0$ |
# | leaky ReLU | $z$ if $z>0$, else $\alpha z$ | $1$ or $\alpha$ |
# | ELU | $z$ if $z>0$, else $\alpha(e^z-1)$ | $1$ or $\alpha e^z$ |
#
# Backpropagation (notebook 04) multiplies, layer after layer, by the activation's derivative
# **and** by the layer's weight matrix. The sigmoid's derivative is at most 1/4, so through 10
# sigmoid layers the product of the derivative factors alone is at most
# $4^{-10} \approx 10^{-6}$. That is not a bound on the gradient: the weight matrices multiply in
# too and can amplify it as well as shrink it. With the usual small initial weights they do not
# make up for the factor 1/4, and the gradient reaching the first layers is tiny: the
# **vanishing gradient** (measured layer by layer in notebook 05). ReLU's derivative is exactly 1
# where the unit is active, which is why it made deep networks trainable; leaky ReLU and ELU keep
# a small gradient for $z<0$ so that a unit can never "die". We get the derivatives with
# `tf.GradientTape` rather than by hand.

# %%
ACTIVATIONS = {
    "sigmoid": keras.activations.sigmoid,
    "tanh": keras.activations.tanh,
    "ReLU": keras.activations.relu,
    "leaky ReLU (0.1)": lambda z: keras.activations.leaky_relu(z, negative_slope=0.1),
    "ELU": keras.activations.elu,
}
z = tf.constant(np.linspace(-4, 4, 401), dtype=tf.float32)
fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
for name, phi in ACTIVATIONS.items():
    with tf.GradientTape() as tape:
        tape.watch(z)
        out = phi(z)
    axes[0].plot(z, out, label=name)
    axes[1].plot(z, tape.gradient(out, z), label=name)
axes[0].set(title="Activation functions", xlabel="z", ylabel=r"$\phi(z)$", ylim=(-1.5, 4))
axes[1].set(title="Their derivatives (from GradientTape)", xlabel="z", ylabel=r"$\phi'(z)$",
            ylim=(-0.1, 1.15))
for ax in axes:
    ax.axhline(0, color="grey", lw=0.5)
    ax.axvline(0, color="grey", lw=0.5)
    ax.legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# ### Exercise 1 — leaky ReLU and its derivative in NumPy
#
# Write `leaky_relu(z, alpha)` and `leaky_relu_grad(z, alpha)` for a NumPy array `z`: the
# function $z$ for $z > 0$ and $\alpha z$ otherwise, and its derivative, $1$ for $z > 0$ and
# $\alpha$ otherwise (use $\alpha$ at $z = 0$, as TensorFlow does). No Python loop: use
# `np.where`.

# %% nbgrader={"grade": false, "grade_id": "ex1_leaky_relu", "locked": false, "schema_version": 3, "solution": true, "task": false}
def leaky_relu(z, alpha=0.1):
    """Leaky ReLU of every element of z."""
    z = np.asarray(z, dtype=float)
    ### BEGIN SOLUTION
    return np.where(z > 0, z, alpha * z)
    ### END SOLUTION


def leaky_relu_grad(z, alpha=0.1):
    """Derivative of the leaky ReLU at every element of z."""
    z = np.asarray(z, dtype=float)
    ### BEGIN SOLUTION
    return np.where(z > 0, 1.0, alpha)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex1_leaky_relu_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
np.testing.assert_allclose(leaky_relu([-2.0, 0.0, 3.0]), [-0.2, 0.0, 3.0])
np.testing.assert_allclose(leaky_relu_grad([-2.0, 3.0]), [0.1, 1.0])
### BEGIN HIDDEN TESTS
_z = np.linspace(-3, 3, 13)
np.testing.assert_allclose(leaky_relu(_z, alpha=0.3), keras.ops.leaky_relu(_z, 0.3), rtol=1e-6)
_zt = tf.constant(np.array([-2.5, -0.5, 0.5, 2.5]), dtype=tf.float32)
with tf.GradientTape() as _tape:
    _tape.watch(_zt)
    _out = keras.activations.leaky_relu(_zt, negative_slope=0.3)
np.testing.assert_allclose(leaky_relu_grad(_zt.numpy(), alpha=0.3), _tape.gradient(_out, _zt),
                           rtol=1e-6)
assert np.asarray(leaky_relu_grad(np.zeros((2, 3)), alpha=0.2)).shape == (2, 3)
### END HIDDEN TESTS

# %% [markdown]
# ## 4. Universal approximation
#
# The **universal approximation theorem** (Cybenko 1989 for sigmoids, Hornik 1991 for bounded
# non-constant activations, Leshno et al. 1993 for any non-polynomial activation, ReLU included)
# says that one hidden layer with enough units, followed by a linear output, can approximate any
# continuous function on a **compact** domain (closed and bounded, such as the interval
# $[-2, 2]$ below) **uniformly**: the largest error over the whole domain is as small as we like.
# Compactness matters: on all of $\mathbb R$, or on an open interval where the function may blow
# up (like $1/x$ on $(0, 1)$), the guarantee is lost. With ReLU the intuition is direct: each
# hidden unit $\max(0, w x + b)$ adds one **kink** at $x = -b/w$, so a width-$n$ network is a
# piecewise-linear curve with at most $n$ kinks, and enough kinks follow any curve.
#
# We fit $f(x) = \sin(3x) + 0.3x^2$ on $[-2, 2]$ with one hidden layer of growing width. The
# theorem says such a network **exists**; it says nothing about how many units are needed or
# whether gradient descent finds the weights, which is why we measure.
#
# One practical detail: Keras starts biases at 0, which would put every kink at $x = 0$ and
# leave gradient descent to spread them out. We start them spread over the interval instead
# (weights $\pm 1$, biases uniform in $[-2, 2]$, so the kinks $-b/w$ start uniformly in
# $[-2, 2]$), a small example of why **initialisation** matters.

# %%
def target_function(x):
    return np.sin(3 * x) + 0.3 * x**2


x_fn = np.linspace(-2, 2, 256, dtype="float32")[:, None]
y_fn = target_function(x_fn).astype("float32")

def plus_minus_one(shape, dtype=None):
    """Initializer: every weight +1 or -1 at random."""
    return tf.where(tf.random.uniform(shape) < 0.5, -1.0, 1.0)


def kinks_layer(width):
    """A ReLU layer for 1-D inputs on [-2, 2] whose kinks -b/w start spread over the interval."""
    return keras.layers.Dense(width, activation="relu", kernel_initializer=plus_minus_one,
                              bias_initializer=keras.initializers.RandomUniform(-2, 2))


width_mse, width_pred = {}, {}
for width in WIDTHS:
    keras.utils.set_random_seed(0)
    net = keras.Sequential([keras.Input(shape=(1,)), kinks_layer(width), keras.layers.Dense(1)])
    train(net, x_fn, y_fn, lr=0.01)
    width_pred[width] = net.predict(x_fn, verbose=0)
    width_mse[width] = float(np.mean((width_pred[width] - y_fn) ** 2))
    print(f"width {width:3d}: {net.count_params():4d} parameters, MSE {width_mse[width]:.5f}")

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), gridspec_kw={"width_ratios": [1.6, 1]})
axes[0].plot(x_fn, y_fn, "k", lw=3, alpha=0.35, label="target f(x)")
for width, pred in width_pred.items():
    axes[0].plot(x_fn, pred, label=f"width {width}")
axes[0].set(title="One hidden ReLU layer of growing width", xlabel="x", ylabel="f(x)")
axes[0].legend(fontsize=8)
axes[1].plot(WIDTHS, [width_mse[w] for w in WIDTHS], marker="o")
axes[1].set(title="Fit error against width", xlabel="hidden units (log scale)",
            ylabel="MSE (log scale)", xscale="log", yscale="log")
plt.tight_layout()
plt.show()

# %% [markdown]
# Read the two plots together. As the width grows, the error drops by orders of magnitude, because
# each extra unit is one more kink to place along the curve; the fits on the left show the narrow
# networks cutting corners where the curve bends most and the wide ones following it closely. The
# drop is not guaranteed to be smooth: gradient descent, a fixed budget of steps and the random
# initial kinks all add noise, and a wider network occasionally ends slightly worse than a narrower
# one. That is the gap between the theorem (the good weights exist) and practice (we must find them).
#
# ## 5. Depth versus width
#
# A dense layer from $n_{\text{in}}$ to $n_{\text{out}}$ units has $n_{\text{in}} n_{\text{out}}$
# weights plus $n_{\text{out}}$ biases. Parameters are the budget of a network: memory, compute,
# and the amount of data needed to fit them.

# %% [markdown]
# ### Exercise 2 — count the parameters of an MLP
#
# Write `mlp_param_count(sizes)` where `sizes = [n_in, h_1, ..., h_k, n_out]` lists the number of
# units of every layer, input first. Return the total number of weights and biases of the dense
# network that connects them, as an `int`.

# %% nbgrader={"grade": false, "grade_id": "ex2_param_count", "locked": false, "schema_version": 3, "solution": true, "task": false}
def mlp_param_count(sizes):
    """Number of weights and biases of a dense network with layer sizes [n_in, ..., n_out]."""
    ### BEGIN SOLUTION
    return int(sum(n_in * n_out + n_out for n_in, n_out in zip(sizes[:-1], sizes[1:])))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex2_param_count_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
assert mlp_param_count([2, 4, 1]) == 17, "XOR net: 2*4+4 + 4*1+1"
assert mlp_param_count([784, 128, 10]) == 101_770, "the Fashion-MNIST net of notebook 00"
### BEGIN HIDDEN TESTS
for _sizes in ([1, 50, 1], [3, 7, 5, 2], [10, 1], [2, 16, 16, 16, 1]):
    _m = keras.Sequential([keras.Input(shape=(_sizes[0],))]
                          + [keras.layers.Dense(n) for n in _sizes[1:]])
    assert mlp_param_count(_sizes) == _m.count_params(), _sizes
### END HIDDEN TESTS

# %% [markdown]
# Now the experiment: **wide** networks (one hidden layer) against **deep** ones (three hidden
# layers), compared at similar parameter counts, on a harder target with many oscillations.
# Deep ReLU networks compose their kinks: each layer can fold the output of the previous one,
# so the number of linear pieces can grow exponentially with depth but only linearly with
# width. On such functions depth tends to buy much more accuracy per parameter. It is a
# tendency, not a law: deep networks are also harder to optimise (notebook 04), and very wide
# layers need a smaller learning rate or more steps than we give them here.

# %%
def wiggly_function(x):
    return np.sin(2 * np.pi * x) * np.cos(5 * x) + 0.5 * np.abs(x)


x_w = np.linspace(-2, 2, 512, dtype="float32")[:, None]
y_w = wiggly_function(x_w).astype("float32")

configs = [("wide", [w]) for w in WIDE_WIDTHS] + [("deep", [w] * 3) for w in DEEP_WIDTHS]
shape_results = []
for kind, hidden in configs:
    keras.utils.set_random_seed(0)
    net = keras.Sequential([keras.Input(shape=(1,)), kinks_layer(hidden[0])]
                           + [keras.layers.Dense(h, activation="relu") for h in hidden[1:]]
                           + [keras.layers.Dense(1)])
    train(net, x_w, y_w, lr=0.01)
    pred = net.predict(x_w, verbose=0)
    mse = float(np.mean((pred - y_w) ** 2))
    shape_results.append({"kind": kind, "hidden": hidden, "params": net.count_params(),
                          "mse": mse, "pred": pred})
    print(f"{kind}: hidden {hidden}, {net.count_params():5d} parameters, MSE {mse:.4f}")

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
for kind, marker in (("wide", "o"), ("deep", "s")):
    rows = [r for r in shape_results if r["kind"] == kind]
    axes[0].plot([r["params"] for r in rows], [r["mse"] for r in rows], marker=marker,
                 label=f"{kind} ({'1 hidden layer' if kind == 'wide' else '3 hidden layers'})")
axes[0].set(title="Depth vs width: error against parameter count", xlabel="parameters",
            ylabel="MSE", xscale="log", yscale="log")
axes[0].legend()
axes[1].plot(x_w, y_w, "k", lw=3, alpha=0.35, label="target")
largest = [max((r for r in shape_results if r["kind"] == k), key=lambda r: r["params"])
           for k in ("wide", "deep")]
for r in largest:
    axes[1].plot(x_w, r["pred"], label=f"{r['kind']} {r['hidden']}: {r['params']} parameters")
axes[1].set(title="The largest wide and deep fits", xlabel="x", ylabel="y")
axes[1].legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# On this oscillating target, look at where each curve sits for the same number of parameters: the
# lower curve spends its parameters better. The deep networks reuse the pieces built by the first
# layer several times over, since a later layer can fold the line so that one segment serves many
# oscillations; the wide network must pay for every piece separately. The right-hand panel shows what
# the numbers mean: the two largest networks side by side against the target, where remaining errors
# sit at the sharpest turns. Treat the comparison as one experiment with one seed and one training
# budget, not as a general ranking; notebook 05 studies why deeper networks are harder to train at all.
#
# ### Exercise 3 (conceptual) — depth without activations
#
# A student stacks **ten** `Dense(256)` layers with **no activation** (`activation=None`), then a
# sigmoid output, and trains the stack on the two spirals of section 2. Which statement is true?
# Assign one letter to `ANSWER`.
#
# - a) it beats the 3-layer ReLU network, since it has far more parameters;
# - b) its decision boundary is a straight line, like logistic regression's;
# - c) its boundary is piecewise linear with up to $10 \times 256$ pieces;
# - d) it cannot be trained at all, since linear layers have no gradient.

# %% nbgrader={"grade": false, "grade_id": "concept_linear_stack", "locked": false, "schema_version": 3, "solution": true, "task": false}
ANSWER = None  # one of "a", "b", "c", "d"
### BEGIN SOLUTION
ANSWER = "b"
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "concept_linear_stack_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
assert ANSWER in {"a", "b", "c", "d"}, "ANSWER is one letter, a to d"
### BEGIN HIDDEN TESTS
assert ANSWER == "b", "a composition of affine maps is affine: the sigmoid then sees a linear function of x"
### END HIDDEN TESTS

# %% [markdown]
# ## Common pitfalls
#
# - **Forgetting the activation.** `Dense(64)` has `activation=None` by default. A stack of such
#   layers is one linear map however deep it is (exercise 3); if a "deep" network does no better
#   than logistic regression, check the activations first.
# - **A sigmoid or softmax in the wrong place.** Hidden layers use ReLU (or tanh); the output
#   activation follows the task: sigmoid with binary cross-entropy, softmax with categorical
#   cross-entropy, none for regression with the squared error. A ReLU on a regression output cannot
#   predict negative values.
# - **Reading the universal approximation theorem as a promise.** It says a wide enough network
#   *exists*, on a compact domain. It does not say how many units are needed, that gradient descent
#   will find the weights, or that the fit extends outside the training interval: a ReLU network
#   continues linearly beyond its last kink, so extrapolation is usually wrong.
# - **Comparing architectures at different parameter counts or budgets.** "Deep beats wide" is
#   only meaningful at equal parameters and comparable training effort; print `count_params()` and
#   keep the number of steps fixed, as section 5 does.
# - **Too few hidden units for the optimiser.** The minimal network (two units for XOR) exists but
#   is hard to find; a few spare units make training far more reliable.
# - **Dead ReLUs.** A unit whose pre-activation is negative on every input gets zero gradient and
#   never recovers. A large learning rate or a bad bias initialisation can kill many units at once;
#   count the units that never fire on a batch to spot it.
#
# ## Further reading
#
# - Rumelhart, Hinton & Williams (1986), "Learning representations by back-propagating errors",
#   *Nature* 323 (a hidden layer learns XOR-like features).
# - Cybenko (1989), "Approximation by superpositions of a sigmoidal function", *Mathematics of
#   Control, Signals and Systems* 2.
# - Hornik (1991), "Approximation capabilities of multilayer feedforward networks", *Neural
#   Networks* 4.
# - Leshno, Lin, Pinkus & Schocken (1993), "Multilayer feedforward networks with a nonpolynomial
#   activation function can approximate any function", *Neural Networks* 6.
# - Montúfar, Pascanu, Cho & Bengio (2014), "On the number of linear regions of deep neural
#   networks", NeurIPS.
# - Telgarsky (2016), "Benefits of depth in neural networks", COLT.
# - Goodfellow, Bengio & Courville (2016), *Deep Learning*, MIT Press, chapter 6 (deep feedforward
#   networks; section 6.4 on universal approximation and depth).

# %% [markdown]
# ## What we reached
#
# The last cell checks the lesson worked: the 2-4-1 network classifies all four XOR corners
# correctly (accuracy 1.0, impossible for the perceptron), and the widest one-hidden-layer
# network fits $\sin(3x) + 0.3x^2$ with a small mean squared error.
#
# Recorded by `benchmarks/notebooks.py` for `widest_net_mse`: FAST mode 0.0006 (target ≤ 0.02, 27 s, 2026-11-23); full lesson 0.0002 (target ≤ 0.01, 67 s, 2026-11-22).

# %% tags=["check"]
widest = max(WIDTHS)
RESULT = {"metric": "widest_net_mse", "value": round(width_mse[widest], 4),
          "target": 0.02 if FAST else 0.01, "higher_is_better": False,
          "xor_accuracy": xor_accuracy}
print(RESULT)
assert xor_accuracy == 1.0, f"XOR accuracy {xor_accuracy}, expected 1.0"
assert RESULT["value"] <= RESULT["target"], f"MSE {RESULT['value']} above {RESULT['target']}"
