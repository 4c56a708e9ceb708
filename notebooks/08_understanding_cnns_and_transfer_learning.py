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
# # 08 · Understanding CNNs and transfer learning
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/dl-course-kit/dl-course-kit/blob/main/notebooks/08_understanding_cnns_and_transfer_learning.ipynb)
#
# A trained convolutional network is not a black box: we can look at its filters, at what each
# layer responds to, and at which pixels drove a decision. Those learned features are also
# **reusable**: a network trained on one task gives a head start on another. This notebook opens a
# CNN, adds the trick that made very deep networks trainable (the **residual connection**), and
# reuses a trained network on new classes with only a handful of labels.
#
# ## Learning goals
#
# - display the **filters** and the **feature maps** of a trained CNN at several depths;
# - compute a **saliency map** and a **Grad-CAM** map to see which pixels drove a prediction;
# - write a **residual block** with the functional API and explain why skips ease training
#   (loss curves and gradient norms with and without the skip);
# - do **transfer learning** (frozen backbone + new head) and **fine-tuning** (unfreeze, low
#   learning rate), and show that it beats training from scratch when labels are scarce, by a
#   margin measured over several seeds and compared with the seed-to-seed noise.

# %% [markdown]
# ## Setup
#
# This cell works in Colab (where TensorFlow and Keras 3 are preinstalled) and locally. It prints
# the versions and fixes the random seeds so that two runs give the same numbers.

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
# `FAST = True` (tests, live demos) pretrains on a few thousand images, keeps every experiment
# short and repeats the transfer experiment with 3 seeds instead of 5. `USE_IMAGENET` switches on the real transfer-learning path with a MobileNetV2 pretrained
# on ImageNet: it **downloads** the weights (14 MB), so it defaults to `True` only in Colab.

# %% tags=["parameters"]
FAST = False  # True: small data, short training (tests, live demos)
USE_IMAGENET = IN_COLAB  # real pretrained MobileNetV2 (downloads weights): Colab only by default
N_PRETRAIN = 30_000  # images of the source classes (0-4) used to pretrain the CNN
PRETRAIN_EPOCHS = 5
N_DEEP = 10_000  # images for the plain-versus-residual experiment
DEEP_EPOCHS = 5
N_PER_CLASS = 10  # labelled images per new class (5-9) for transfer learning
FEW_SHOT_EPOCHS = 100  # 50 images: 2 batches per epoch, so 200 steps
N_SEEDS = 5  # repetitions of the transfer experiment (new labelled sample, new initialisation)
N_TEST = 5_000  # test images of the new classes

# %%
if FAST:
    N_PRETRAIN, PRETRAIN_EPOCHS, N_DEEP, DEEP_EPOCHS = 6_000, 3, 3_000, 3
    N_SEEDS, N_TEST = 3, 2_000
print(f"FAST={FAST}: pretrain {PRETRAIN_EPOCHS} epochs on {N_PRETRAIN} images, "
      f"{N_PER_CLASS} labels per new class, {N_SEEDS} seeds, ImageNet path: {USE_IMAGENET}")

# %% [markdown]
# ## 1. Data: two groups of classes
#
# We split Fashion-MNIST in two tasks. The **source task** (classes 0-4: T-shirt, trouser,
# pullover, dress, coat) has plenty of labels; the **target task** (classes 5-9: sandal, shirt,
# sneaker, bag, ankle boot) has only `N_PER_CLASS` labelled images per class. This is the usual
# situation in practice: a big generic data set, a small specific one.

# %%
(x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
x_train = x_train[..., None].astype("float32") / 255.0  # (n, 28, 28, 1) in [0, 1]
x_test = x_test[..., None].astype("float32") / 255.0

source = y_train < 5
x_src, y_src = x_train[source][:N_PRETRAIN], y_train[source][:N_PRETRAIN]
x_src_test, y_src_test = x_test[y_test < 5][:N_TEST], y_test[y_test < 5][:N_TEST]

x_new_pool, y_new_pool = x_train[~source], y_train[~source] - 5  # labels 0-4 for classes 5-9
x_new_test, y_new_test = x_test[y_test >= 5][:N_TEST], y_test[y_test >= 5][:N_TEST] - 5


def few_shot_sample(seed):
    """N_PER_CLASS labelled training images of each new class, drawn with the given seed."""
    rng = np.random.default_rng(seed)
    few = np.concatenate([rng.choice(np.flatnonzero(y_new_pool == c), N_PER_CLASS, replace=False)
                          for c in range(5)])
    return x_new_pool[few], y_new_pool[few]


print(f"source: {len(x_src)} images | target: {5 * N_PER_CLASS} labelled images per seed, "
      f"{len(x_new_test)} test")

# %% [markdown]
# ## 2. A CNN trained on the source task
#
# A small functional-API CNN: three 3×3 convolutions, each followed by max-pooling, a dense
# layer, a softmax. We name the layers so that we can pull out their outputs later. The last
# `Dense` has no activation: its outputs are the **logits** (the pre-softmax class scores), and a
# separate `Activation("softmax")` layer turns them into probabilities. The model computes exactly
# what `Dense(n_classes, activation="softmax")` would, but the logits stay reachable: section 2.3
# needs them.

# %%
def make_cnn(n_classes=5, name="cnn"):
    inputs = keras.Input(shape=(28, 28, 1))
    x = keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="conv1")(inputs)
    x = keras.layers.MaxPooling2D(name="pool1")(x)
    x = keras.layers.Conv2D(32, 3, padding="same", activation="relu", name="conv2")(x)
    x = keras.layers.MaxPooling2D(name="pool2")(x)
    x = keras.layers.Conv2D(32, 3, padding="same", activation="relu", name="conv3")(x)
    x = keras.layers.MaxPooling2D(name="pool3")(x)
    x = keras.layers.Flatten(name="conv_features")(x)  # 3 x 3 x 32 = 288 generic features
    x = keras.layers.Dense(128, activation="relu", name="dense")(x)
    logits = keras.layers.Dense(n_classes, name="logits")(x)  # pre-softmax class scores
    outputs = keras.layers.Activation("softmax", name="probabilities")(logits)
    return keras.Model(inputs, outputs, name=name)


pretrained = make_cnn(5, "pretrained")
pretrained.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
pretrained.fit(x_src, y_src, epochs=PRETRAIN_EPOCHS, batch_size=64, verbose=2)
_, src_accuracy = pretrained.evaluate(x_src_test, y_src_test, verbose=0)
print(f"source-task test accuracy: {src_accuracy:.3f} (chance 0.2)")

# %% [markdown]
# ### 2.1 Filters
#
# The first layer's kernels act directly on pixels, so we can draw them: each is a 3×3 weight
# pattern. Trained filters look like small edge and blob detectors (light-to-dark transitions in
# some direction). Deeper kernels mix 16 or 32 channels and cannot be read this way. The sign of
# a weight matters, so all filters share one **symmetric diverging** colour scale: white is 0,
# red positive, blue negative, and the same colour means the same value in every panel.

# %%
kernels = pretrained.get_layer("conv1").get_weights()[0]  # (3, 3, 1, 16)
m = np.abs(kernels).max()  # one scale for all filters, centred on 0
fig, axes = plt.subplots(2, 8, figsize=(10, 3))
for k, ax in enumerate(axes.flat):
    shown = ax.imshow(kernels[:, :, 0, k], cmap="RdBu_r", vmin=-m, vmax=m)
    ax.set_title(f"filter {k}", fontsize=8)
    ax.axis("off")
fig.colorbar(shown, ax=axes, shrink=0.8, label="weight")
fig.suptitle("First-layer 3×3 filters (red = positive weight, blue = negative, white = 0)")
plt.show()

# %% [markdown]
# ### 2.2 Feature maps at several depths
#
# A feature map is the output of one filter over the whole image. A model that returns the
# outputs of `conv1`, `conv2` and `conv3` shows how the representation evolves: early maps still
# look like the garment (edges, outlines), deeper ones are coarser (28 → 14 → 7 pixels) and more
# abstract: they fire on parts ("collar", "sleeve") rather than on pixels.

# %%
probe = keras.Model(pretrained.input,
                    [pretrained.get_layer(n).output for n in ("conv1", "conv2", "conv3")])
maps = probe.predict(x_src_test[:1], verbose=0)
fig, axes = plt.subplots(3, 7, figsize=(11, 5))
for row, (name, fmap) in enumerate(zip(("conv1", "conv2", "conv3"), maps)):
    axes[row, 0].imshow(x_src_test[0, :, :, 0], cmap="gray_r")
    axes[row, 0].set_title("input", fontsize=8)
    for col in range(1, 7):
        axes[row, col].imshow(fmap[0, :, :, col - 1], cmap="viridis")
        axes[row, col].set_title(f"{name} #{col - 1} ({fmap.shape[1]}×{fmap.shape[2]})", fontsize=8)
    for ax in axes[row]:
        ax.axis("off")
fig.suptitle(f"Feature maps of one {CLASS_NAMES[y_src_test[0]]} at three depths")
plt.tight_layout()
plt.show()

# %% [markdown]
# Why do deeper maps respond to parts rather than edges? Each unit of a deeper layer sees a
# larger patch of the input, its **receptive field**: a 3×3 convolution on top of a 3×3
# convolution sees 5×5 pixels, and every 2×2 max-pooling doubles the step between neighbouring
# units, so the next 3×3 convolution reaches twice as far. Notebook 07 works this out for the
# AlexNet → VGG → ResNet line, with their parameter counts; here is one question on our CNN.
#
# ### Exercise 1 (concept) — how much of the image does one `conv3` unit see?
#
# Our CNN is `conv1` (3×3) → `pool1` (2×2, stride 2) → `conv2` (3×3) → `pool2` (2×2, stride 2)
# → `conv3` (3×3), all convolutions with stride 1. One output unit of `conv3` (before `pool3`)
# depends on a square patch of the 28×28 input. What is the side of that patch, in pixels?
# Work it out by hand (padding does not change the answer) and assign the integer to
# `RECEPTIVE_FIELD`.

# %% nbgrader={"grade": false, "grade_id": "concept_receptive_field", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
RECEPTIVE_FIELD = 18  # 3, then 4 (pool1, step 2), 8 (conv2), 10 (pool2, step 4), 18 (conv3)
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "concept_receptive_field_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
assert isinstance(RECEPTIVE_FIELD, (int, np.integer)), "the side of the patch, as an integer"
assert 3 <= RECEPTIVE_FIELD <= 28, "between one kernel (3) and the whole image (28)"
### BEGIN HIDDEN TESTS
assert RECEPTIVE_FIELD == 18, "each layer adds (kernel - 1) x (step between units of its input)"
### END HIDDEN TESTS

# %% [markdown]
# ### 2.3 Saliency: which pixels matter?
#
# The simplest explanation of a prediction is the gradient of the class score $s_c$ with respect
# to the input pixels: $S_{ij} = \left|\partial s_c / \partial x_{ij}\right|$ (Simonyan et al.,
# 2014). A large value means that changing that pixel a little would change the score a lot.
#
# The score is the **logit** $s_c$, the pre-softmax output, not the probability
# $p_c = e^{s_c} / \sum_k e^{s_k}$. The probability's gradient,
# $\partial p_c / \partial x = p_c \big(\partial s_c / \partial x - \sum_k p_k\,
# \partial s_k / \partial x\big)$, mixes in every other class (a pixel can raise $p_c$ just by
# lowering a rival's score) and vanishes when the model is confident ($p_c \approx 1$), the usual
# case for the true class of a trained model. So we differentiate a view of the model that stops
# before the softmax: `keras.Model(model.inputs, model.get_layer("logits").output)`, the same
# weights without the last layer.
#
# ### Exercise 2 — a saliency map
#
# Write `saliency_map(model, image, class_index)`: `image` has shape `(H, W, C)`, and `model`
# outputs logits. Return a NumPy array of shape `(H, W)` holding $|\partial s_c / \partial x|$
# where $s_c$ is `model(batch)[0, class_index]`, taking the **maximum over the channel axis**.
# Use `tf.GradientTape` (watch the input: it is a constant, not a variable).

# %% nbgrader={"grade": false, "grade_id": "ex1_saliency", "locked": false, "schema_version": 3, "solution": true, "task": false}
def saliency_map(model, image, class_index):
    """|d score_c / d pixel|, maximum over channels, as an (H, W) NumPy array."""
    batch = tf.convert_to_tensor(image[None], dtype=tf.float32)
    ### BEGIN SOLUTION
    with tf.GradientTape() as tape:
        tape.watch(batch)
        score = model(batch, training=False)[0, class_index]
    grads = tape.gradient(score, batch)[0]  # (H, W, C)
    return tf.reduce_max(tf.abs(grads), axis=-1).numpy()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex1_saliency_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# A linear model: the score is w . x, so the saliency must be |w| reshaped to the image.
_lin = keras.Sequential([keras.Input(shape=(4, 5, 1)), keras.layers.Flatten(), keras.layers.Dense(3)])
_w = np.arange(-30, 30, dtype="float32").reshape(20, 3) / 10
_lin.layers[-1].set_weights([_w, np.zeros(3, "float32")])
_s = saliency_map(_lin, np.ones((4, 5, 1), "float32"), 1)
assert np.asarray(_s).shape == (4, 5), f"expected shape (4, 5), got {np.asarray(_s).shape}"
np.testing.assert_allclose(_s, np.abs(_w[:, 1]).reshape(4, 5), atol=1e-5)
### BEGIN HIDDEN TESTS
np.testing.assert_allclose(saliency_map(_lin, np.zeros((4, 5, 1), "float32"), 2),
                           np.abs(_w[:, 2]).reshape(4, 5), atol=1e-5)
_lin3 = keras.Sequential([keras.Input(shape=(2, 2, 3)), keras.layers.Flatten(), keras.layers.Dense(1)])
_w3 = np.array([1, -5, 2, 0, 0, 0, -1, 1, 3, 2, 2, -2], "float32").reshape(12, 1)
_lin3.layers[-1].set_weights([_w3, np.zeros(1, "float32")])
np.testing.assert_allclose(saliency_map(_lin3, np.ones((2, 2, 3), "float32"), 0),
                           [[5, 0], [3, 2]], atol=1e-5)
### END HIDDEN TESTS

# %% [markdown]
# Raw gradients are noisy. **Grad-CAM** (Selvaraju et al., 2017) works one level up: it takes the
# last convolutional feature maps $A^k$ (here `conv3`, 7×7), weights each map by the average
# gradient of the class score (again the logit $s_c$, before the softmax) over it,
# $\alpha_k = \frac{1}{Z}\sum_{ij} \partial s_c/\partial A^k_{ij}$, and keeps the positive
# part: $L_c = \mathrm{ReLU}\big(\sum_k \alpha_k A^k\big)$. The coarse map is upsampled to the
# image size.

# %%
def logit_model(model):
    """The same network and weights, stopped before the softmax: it outputs the logits."""
    return keras.Model(model.inputs, model.get_layer("logits").output, name=f"{model.name}_logits")


def grad_cam(model, image, class_index, layer="conv3"):
    """Grad-CAM heat map in [0, 1] with the image's height and width (gradients of the logit)."""
    cam_model = keras.Model(model.inputs, [model.get_layer(layer).output,
                                           model.get_layer("logits").output])
    with tf.GradientTape() as tape:
        fmaps, logits = cam_model(image[None], training=False)
        score = logits[0, class_index]  # pre-softmax score of the class
    alphas = tf.reduce_mean(tape.gradient(score, fmaps), axis=(1, 2))  # (1, channels)
    cam = tf.nn.relu(tf.reduce_sum(fmaps * alphas[:, None, None, :], axis=-1))[..., None]
    cam = tf.image.resize(cam, image.shape[:2])[0, :, :, 0].numpy()
    return cam / (cam.max() + 1e-8)


pretrained_logits = logit_model(pretrained)
fig, axes = plt.subplots(3, 5, figsize=(10, 6.5))
for col in range(5):
    i = int(np.flatnonzero(y_src_test == col)[0])
    image = x_src_test[i]
    axes[0, col].imshow(image[:, :, 0], cmap="gray_r")
    axes[0, col].set_title(CLASS_NAMES[col], fontsize=9)
    try:
        axes[1, col].imshow(saliency_map(pretrained_logits, image, col), cmap="hot")
    except NotImplementedError:
        pass  # Exercise 2 not done yet
    axes[1, col].set_title("saliency", fontsize=9)
    axes[2, col].imshow(image[:, :, 0], cmap="gray_r")
    axes[2, col].imshow(grad_cam(pretrained, image, col), cmap="jet", alpha=0.45)
    axes[2, col].set_title("Grad-CAM", fontsize=9)
for ax in axes.flat:
    ax.axis("off")
fig.suptitle("What drove the true class's score (its logit): gradients and Grad-CAM")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 3. Residual connections
#
# Notebook 07 follows the line AlexNet → VGG → ResNet: ever deeper networks, with their parameter
# counts and receptive fields. This section looks at the one idea that made the last step
# possible. Stacking more layers should never hurt in principle: the extra layers could learn
# the identity, and the deeper network would then do at least as well as the shallower one. Yet
# He et al. (2016a; arXiv 2015) found that deeper **plain** networks (20 versus 56 layers on CIFAR-10, 18 versus 34 on
# ImageNet) reach a **higher training error**: the **degradation problem**. It is not overfitting,
# since the error on the *training* set rises. Nor is it the vanishing gradient: their plain
# networks used batch normalisation, which keeps the forward signals and the backward gradients
# at a healthy scale, and they checked that the gradient norms were healthy. Deep plain stacks
# are harder to *optimise*: He et al. suggest that the solver struggles even to approximate the
# identity with a stack of non-linear layers.
#
# A **residual block** (He et al., 2016a) learns a correction $F(x)$ and adds the input back:
# $y = \mathrm{ReLU}\big(x + F(x)\big)$. To pass its input on unchanged, a block only has to push
# $F$ towards 0, which is easy. The sum also gives the gradient a direct path around $F$:
# $\partial (x + F(x)) / \partial x = I + \partial F/\partial x$. (The ReLU after the addition,
# as in the original ResNet, still gates that path; the "pre-activation" ResNet of He et al.,
# 2016b, moves it into $F$ so that the shortcut is an exact identity.) When the number of channels
# changes, the skip uses a 1×1 convolution (a *projection*) so that the shapes match.
#
# ### Exercise 3 — a residual block with the functional API
#
# Write `residual_block(x, filters, skip=True)` taking a 4-D Keras tensor `x`:
# `F(x)` = `Conv2D(filters, 3, padding="same", activation="relu")` then
# `Conv2D(filters, 3, padding="same")` (no activation). With `skip=True` add the shortcut
# (`x` itself if it already has `filters` channels, otherwise `Conv2D(filters, 1)(x)`) with
# `keras.layers.Add()`. Return `ReLU` of the result. With `skip=False` return `ReLU(F(x))`: the
# same block without the shortcut.

# %% nbgrader={"grade": false, "grade_id": "ex2_residual_block", "locked": false, "schema_version": 3, "solution": true, "task": false}
def residual_block(x, filters, skip=True):
    """ReLU(x + F(x)) with a 1x1 projection when the channels differ; ReLU(F(x)) if not skip."""
    ### BEGIN SOLUTION
    y = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
    y = keras.layers.Conv2D(filters, 3, padding="same")(y)
    if skip:
        shortcut = x if x.shape[-1] == filters else keras.layers.Conv2D(filters, 1)(x)
        y = keras.layers.Add()([shortcut, y])
    return keras.layers.ReLU()(y)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex2_residual_block_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
_inp = keras.Input(shape=(6, 6, 4))
_block = keras.Model(_inp, residual_block(_inp, 4))
assert _block.output.shape[1:] == (6, 6, 4), f"shape {_block.output.shape}"
# With every weight at zero, F(x) = 0: the block must let ReLU(x) through the skip.
_block.set_weights([np.zeros_like(w) for w in _block.get_weights()])
_x = np.random.default_rng(1).normal(size=(2, 6, 6, 4)).astype("float32")
np.testing.assert_allclose(_block(_x).numpy(), np.maximum(_x, 0), atol=1e-6)
### BEGIN HIDDEN TESTS
_plain = keras.Model(_inp, residual_block(_inp, 4, skip=False))
_plain.set_weights([np.zeros_like(w) for w in _plain.get_weights()])
np.testing.assert_allclose(_plain(_x).numpy(), 0.0, atol=1e-6)
assert not any(isinstance(layer, keras.layers.Add) for layer in _plain.layers), "no Add without skip"
_proj = keras.Model(_inp, residual_block(_inp, 8))
assert _proj.output.shape[1:] == (6, 6, 8), "a 1x1 projection must give 8 channels"
assert sum(isinstance(layer, keras.layers.Conv2D) for layer in _proj.layers) == 3
assert _proj.count_params() == (9 * 4 * 8 + 8) + (9 * 8 * 8 + 8) + (4 * 8 + 8)
assert any(isinstance(layer, keras.layers.Add) for layer in _block.layers)
### END HIDDEN TESTS

# %% [markdown]
# Now the experiment: the same deep network (a 2-layer stem, then 10 blocks = 20 more
# convolutions, no batch normalisation) with and without skips, same initialisation scheme, same
# optimiser, same data. We record the gradient norm that reaches each convolution at the start
# of training, then the loss curves. Without batch normalisation, our plain network suffers from
# vanishing gradients **as well as** from its depth, so this small experiment shows the two
# effects together; it does not separate them the way He et al. did.

# %%
def deep_net(skip, n_blocks=10, width=8):
    inputs = keras.Input(shape=(28, 28, 1))
    x = keras.layers.Conv2D(width, 3, strides=2, padding="same", activation="relu")(inputs)
    x = keras.layers.Conv2D(width, 3, strides=2, padding="same", activation="relu")(x)  # 7 x 7
    for _ in range(n_blocks):
        x = residual_block(x, width, skip=skip)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(10, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="resnet" if skip else "plain")


def conv_gradient_norms(model, x, y):
    """Norm of the loss gradient for each convolution kernel, input side first."""
    with tf.GradientTape() as tape:
        loss = keras.losses.sparse_categorical_crossentropy(y, model(x, training=True))
        loss = tf.reduce_mean(loss)
    kernels = [layer.kernel for layer in model.layers
               if isinstance(layer, keras.layers.Conv2D) and layer.kernel_size == (3, 3)]
    return [float(tf.norm(g)) for g in tape.gradient(loss, kernels)]


x_deep, y_deep = x_train[:N_DEEP], y_train[:N_DEEP]
deep_runs = {}
for skip in (False, True):
    keras.utils.set_random_seed(1)
    net = deep_net(skip)
    norms = conv_gradient_norms(net, x_deep[:256], y_deep[:256])
    net.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                metrics=["accuracy"])
    hist = net.fit(x_deep, y_deep, epochs=DEEP_EPOCHS, batch_size=64, validation_split=0.2,
                   verbose=0)
    deep_runs[net.name] = (norms, hist.history)
    print(f"{net.name:6s}: first-layer gradient norm {norms[0]:.2e}, "
          f"final val accuracy {hist.history['val_accuracy'][-1]:.3f}")

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
for name, (norms, history) in deep_runs.items():
    axes[0].plot(range(1, len(norms) + 1), norms, marker="o", label=name)
    axes[1].plot(range(1, len(history["loss"]) + 1), history["loss"], marker="o",
                 label=f"{name} (train)")
    axes[1].plot(range(1, len(history["val_loss"]) + 1), history["val_loss"], ls="--",
                 label=f"{name} (validation)")
axes[0].set(title="Gradient norm per 3×3 convolution at initialisation",
            xlabel="layer (input side → output side)", ylabel="‖∂L/∂W‖", yscale="log")
axes[1].set(title="Same depth, with and without skips", xlabel="epoch", ylabel="cross-entropy")
axes[0].legend()
axes[1].legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# Without skips (and without batch normalisation) the gradient shrinks layer after layer on its
# way back to the input, so the early convolutions barely learn and the loss stalls; with skips
# the gradient reaches every layer at a similar scale and the same network trains. Batch
# normalisation, which real ResNets also use, would keep the plain network's gradients at a
# healthy scale too (notebook 05 measures that), but not cure the degradation of much deeper
# plain networks; the skips address both, which is why ResNets use skips **and** batch
# normalisation. We left it out here to keep the network small and the effect of the skip
# visible.
#
# ## 4. Transfer learning with few labels
#
# The convolutions of our pretrained CNN learned edge, texture and shape detectors on tops and
# trousers. Those detectors are useful for shoes and bags too. **Transfer learning** keeps them:
#
# 1. **feature extraction**: freeze the convolutional backbone (`trainable = False`), put a new
#    head on top, train only the head on the few labels;
# 2. **fine-tuning**: then unfreeze the backbone and train everything a little more with a
#    **low learning rate** (here $10^{-4}$), so the pretrained features are adjusted, not wiped.
#
# The baseline is the *same architecture* trained from random weights on the same few labels.
#
# With 10 labelled images per class, one run proves little: another draw of the 50 images, or
# another random initialisation, can move the accuracy by several points. So we repeat the whole
# experiment with `N_SEEDS` seeds. Each seed draws a new labelled sample and new initial
# weights, and trains all three strategies on **that same sample**. The comparison is then
# *paired*: for each seed we take the difference "fine-tuned minus scratch", so a lucky or an
# unlucky sample affects both sides and cancels out of the difference. We report the mean of
# the differences, their standard deviation $s$ and the **standard error** of the mean,
# $s / \sqrt{n}$ for $n$ seeds. The mean gain counts as real when it lies more than two standard
# errors above zero.

# %%
def few_shot_fit(model, x, y, lr, epochs):
    """Train on the labelled images (x, y), return the test accuracy on the new classes."""
    model.compile(optimizer=keras.optimizers.Adam(lr), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, epochs=epochs, batch_size=32, verbose=0)
    return model.evaluate(x_new_test, y_new_test, verbose=0)[1]


def pretrained_backbone():
    """A *copy* of the pretrained convolutions: fine-tuning it leaves `pretrained` untouched."""
    view = keras.Model(pretrained.input, pretrained.get_layer("conv_features").output)
    backbone = keras.models.clone_model(view)
    backbone.set_weights(view.get_weights())
    return backbone


def transfer_experiment(seed):
    """Scratch, frozen backbone and fine-tuned, all on the same labelled sample."""
    x_few, y_few = few_shot_sample(seed)
    keras.utils.set_random_seed(seed)  # the scratch CNN's and the new head's initial weights
    scratch = few_shot_fit(make_cnn(5, "scratch"), x_few, y_few, 1e-3, FEW_SHOT_EPOCHS)

    backbone = pretrained_backbone()
    backbone.trainable = False  # freeze: the few labels only train the new head
    inputs = keras.Input(shape=(28, 28, 1))
    hidden = keras.layers.Dense(128, activation="relu")(backbone(inputs, training=False))
    transfer = keras.Model(inputs, keras.layers.Dense(5, activation="softmax")(hidden),
                           name="transfer")
    frozen = few_shot_fit(transfer, x_few, y_few, 1e-3, FEW_SHOT_EPOCHS)
    trainable = sum(int(np.prod(w.shape)) for w in transfer.trainable_weights)

    backbone.trainable = True  # fine-tune: recompile (few_shot_fit does) so that it takes effect
    finetuned = few_shot_fit(transfer, x_few, y_few, 1e-4, FEW_SHOT_EPOCHS // 5)
    return {"from scratch": scratch, "frozen backbone": frozen, "fine-tuned": finetuned,
            "trainable": trainable, "total": transfer.count_params()}


SEEDS = list(range(N_SEEDS))
runs = []
for seed in SEEDS:
    runs.append(transfer_experiment(seed))
    r = runs[-1]
    print(f"seed {seed}: scratch {r['from scratch']:.3f} | frozen {r['frozen backbone']:.3f} | "
          f"fine-tuned {r['fine-tuned']:.3f} | gain {r['fine-tuned'] - r['from scratch']:+.3f}")
print(f"trainable weights with a frozen backbone: {runs[0]['trainable']} of {runs[0]['total']}")

STRATEGIES = ["from scratch", "frozen backbone", "fine-tuned"]
accuracies = {name: np.array([r[name] for r in runs]) for name in STRATEGIES}
gains = accuracies["fine-tuned"] - accuracies["from scratch"]  # paired: same sample, same seed
gain_mean, gain_std = float(gains.mean()), float(gains.std(ddof=1))
gain_se = gain_std / np.sqrt(len(gains))  # standard error of the mean gain
for name in STRATEGIES:
    print(f"{name:16s} test accuracy on classes 5-9: {accuracies[name].mean():.3f} "
          f"± {accuracies[name].std(ddof=1):.3f} (mean ± std over {N_SEEDS} seeds)")
print(f"transfer (fine-tuned) minus scratch: per seed {np.round(gains, 3).tolist()}, "
      f"mean {gain_mean:+.3f}, std {gain_std:.3f}, standard error {gain_se:.3f}")

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
means = [accuracies[name].mean() for name in STRATEGIES]
stds = [accuracies[name].std(ddof=1) for name in STRATEGIES]
bars = axes[0].bar(STRATEGIES, means, yerr=stds, capsize=4, color=["C7", "C0", "C2"], alpha=0.8)
axes[0].bar_label(bars, fmt="%.3f", label_type="center")
for k, name in enumerate(STRATEGIES):
    axes[0].plot(np.full(N_SEEDS, k), accuracies[name], "k.", ms=5)
axes[0].set(title=f"Classes 5-9, {N_PER_CLASS} labels per class ({N_SEEDS} seeds)",
            xlabel="training strategy", ylabel="test accuracy", ylim=(0.5, 1))
axes[1].bar([str(s) for s in SEEDS], gains, color="C2")
axes[1].axhline(gain_mean, color="k", ls="--", label=f"mean {gain_mean:+.3f}")
axes[1].axhspan(gain_mean - 2 * gain_se, gain_mean + 2 * gain_se, color="k", alpha=0.1,
                label="mean ± 2 standard errors")
axes[1].axhline(0, color="k", lw=0.8)
axes[1].set(title="Paired gain: fine-tuned minus scratch, same labelled images",
            xlabel="seed", ylabel="accuracy gain")
axes[1].legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# Read the left panel by its spread as much as by its bars. The scratch CNN's accuracy moves a
# lot from seed to seed (recorded in FAST mode: 0.79 to 0.85), because 50 images are a poor
# basis for learning 50,000 weights: which images were drawn, and where the weights started,
# decide a lot. The transferred models vary less (0.86 to 0.89). Their features were fixed by
# thousands of images of *other* classes, and the 50 new labels only have to place a boundary
# between them. Lower variance is a benefit of transfer in its own right: the result depends less
# on luck.
#
# Fine-tuning adds little on top of the frozen backbone here (in FAST mode both average 0.881).
# With 50 labelled images there is not much signal to adjust 14,000 convolution weights, and the
# low learning rate keeps them close to where pretraining left them. Fine-tuning pays off when the
# target data set is larger or further from the source. We still check the fine-tuned model, the
# end of the recipe, chosen before looking at the results. Taking the better of "frozen" and
# "fine-tuned" *after* seeing their test accuracies would bias the gain upwards: that is
# selecting on the test set.
#
# ### The real thing: an ImageNet backbone (Colab)
#
# In practice the backbone is a large network pretrained on ImageNet (1.3 M photos, 1000 classes)
# from `keras.applications`. The cell below is the real path: it resizes our greyscale images to
# 96×96 RGB, scales them to $[-1, 1]$ as MobileNetV2 expects, freezes the backbone and trains a
# new head, then fine-tunes. It **downloads** the ImageNet weights, so it only runs when
# `USE_IMAGENET` is true (by default in Colab). Offline, `weights=None` gives the same
# architecture with random weights: useful to inspect it, useless for transfer.

# %%
def imagenet_transfer(weights="imagenet"):
    base = keras.applications.MobileNetV2(input_shape=(96, 96, 3), include_top=False,
                                          weights=weights, pooling="avg")
    base.trainable = False
    inputs = keras.Input(shape=(28, 28, 1))
    x = keras.layers.Resizing(96, 96)(inputs)
    x = keras.layers.Concatenate()([x, x, x])  # grey -> RGB
    x = keras.layers.Rescaling(2.0, offset=-1.0)(x)  # [0, 1] -> [-1, 1]
    x = base(x, training=False)  # keep BatchNorm statistics frozen, even when fine-tuning
    outputs = keras.layers.Dense(5, activation="softmax")(keras.layers.Dropout(0.2)(x))
    return keras.Model(inputs, outputs, name="mobilenet_transfer"), base


if USE_IMAGENET:  # needs internet: downloads the MobileNetV2 ImageNet weights
    mobilenet, mobilenet_base = imagenet_transfer("imagenet")
    x_few, y_few = few_shot_sample(0)
    print(f"ImageNet features + new head: {few_shot_fit(mobilenet, x_few, y_few, 1e-3, 20):.3f}")
    mobilenet_base.trainable = True
    print(f"after fine-tuning:            {few_shot_fit(mobilenet, x_few, y_few, 1e-5, 5):.3f}")
else:
    print("USE_IMAGENET is False: skipping the download. Architecture with weights=None:")
    _, mobilenet_base = imagenet_transfer(None)
    print(f"MobileNetV2 backbone: {len(mobilenet_base.layers)} layers, "
          f"{mobilenet_base.count_params():,} parameters")

# %% [markdown]
# ## Common pitfalls
#
# - **One run is an anecdote.** With 50 labelled images, which 50 you drew and how the weights
#   started move the accuracy by several points (look at the spread of the black dots above).
#   A single "transfer beats scratch by 0.03" can be luck. Repeat with several seeds, compare the
#   two methods on the **same** labelled sample (a paired comparison: the sample's difficulty
#   cancels out), and report the mean gain with its spread. That is what the check does.
# - **Fine-tuning too early or too fast.** If you unfreeze the backbone while the new head is
#   still random, the head's large, meaningless gradients flow into the pretrained filters and
#   wreck them. Train the head first with the backbone frozen, then unfreeze with a learning rate
#   10 to 100 times lower.
# - **Changing `trainable` without recompiling.** Keras fixes which weights to train when the
#   model is compiled (its transfer-learning guide says so). Set `trainable`, then call `compile`
#   again, as our `few_shot_fit` does; otherwise the change may not be taken into account.
# - **Batch normalisation during fine-tuning.** Calling a pretrained backbone with
#   `training=True` on a few small batches replaces its running mean and variance by noisy
#   estimates and can ruin its features. Call it with `training=False`, as the MobileNetV2 cell
#   does; the BatchNorm layers then keep their statistics even when their weights are unfrozen.
# - **Shared layers are shared weights.** `keras.Model(pretrained.input, ...)` does not copy
#   anything: fine-tuning it also changes `pretrained`. We clone the backbone for every seed, so
#   each run starts from the same pretrained weights.
# - **The wrong preprocessing for a pretrained network.** MobileNetV2 expects pixels in
#   $[-1, 1]$, other `keras.applications` models expect other scalings or channel orders. Use
#   the model's own `preprocess_input` (or its documented scaling); a mismatch does not raise an
#   error, it only gives worse features.
# - **Saliency from the probability.** The gradient of the softmax output vanishes when the model
#   is confident and mixes in the other classes; use the logit. And a saliency map is not proof:
#   some popular maps barely change when the weights are randomised (Adebayo et al., 2018), so
#   compare with a model that should *not* produce the same map before trusting one.
# - **Grad-CAM on the wrong layer.** It needs a layer with a spatial layout (height × width ×
#   channels): the last convolution, not the flattened features or a dense layer, and not a
#   layer so early that its maps only detect edges.
#
# %% [markdown]
# ## What we reached
#
# With the same architecture and the same `N_PER_CLASS` labels per class, starting from features
# learned on *other* classes beats starting from random weights. The check's value is the mean,
# over the seeds, of the fine-tuned model's test accuracy minus the scratch model's, each pair
# trained on the same labelled sample. It must be at least 0.02 in FAST mode (3 seeds) and 0.03 in
# the full lesson (5 seeds), and it must lie more than two standard errors above 0: a gain
# within the seed noise would not count. The recorded runs: +0.054 in FAST mode (per seed
# +0.075, +0.048, +0.040; standard deviation 0.018, so mean minus two standard errors +0.033)
# and +0.052 in the full lesson (5 seeds, mean minus two standard errors also above 0). With an ImageNet backbone on real photos the gap is usually much
# larger.
#
# Recorded by `benchmarks/notebooks.py` for `transfer_minus_scratch_accuracy`: FAST mode 0.0542 (target ≥ 0.02, 74 s, 2026-11-23); full lesson 0.0523 (target ≥ 0.03, 977 s, 2026-11-23).
#
# ## Further reading
#
# - Zeiler & Fergus (2014), *Visualizing and understanding convolutional networks*, ECCV: what
#   the filters and feature maps of each layer respond to.
# - Simonyan, Vedaldi & Zisserman (2014), *Deep inside convolutional networks: visualising image
#   classification models and saliency maps*, ICLR workshop: the gradient saliency map.
# - Selvaraju, Cogswell, Das, Vedantam, Parikh & Batra (2017), *Grad-CAM: visual explanations
#   from deep networks via gradient-based localization*, ICCV.
# - Adebayo, Gilmer, Muelly, Goodfellow, Hardt & Kim (2018), *Sanity checks for saliency maps*,
#   NeurIPS.
# - He, Zhang, Ren & Sun (2016a), *Deep residual learning for image recognition*, CVPR: the
#   degradation problem and residual blocks.
# - He, Zhang, Ren & Sun (2016b), *Identity mappings in deep residual networks*, ECCV: the
#   pre-activation block.
# - Yosinski, Clune, Bengio & Lipson (2014), *How transferable are features in deep neural
#   networks?*, NeurIPS: which layers transfer, and how far apart the tasks can be.
# - Goodfellow, Bengio & Courville (2016), *Deep Learning*, MIT Press, chapter 9 (convolutional
#   networks) and section 15.2 (transfer learning and domain adaptation).
# - Chollet (2021), *Deep Learning with Python*, 2nd edition, chapter 8 (pretrained models,
#   feature extraction and fine-tuning) and chapter 9 (residual connections, interpreting what
#   convnets learn, Grad-CAM).

# %% tags=["check"]
target = 0.02 if FAST else 0.03
RESULT = {"metric": "transfer_minus_scratch_accuracy", "value": round(gain_mean, 4),
          "target": target}
print(RESULT)
print(f"per seed {np.round(gains, 3).tolist()}, std {gain_std:.3f}, "
      f"mean - 2 standard errors {gain_mean - 2 * gain_se:+.3f}")
assert RESULT["value"] >= RESULT["target"], (
    f"transfer beat scratch by {gain_mean:+.3f} on average, less than {target}")
assert gain_mean - 2 * gain_se > 0, (
    f"the mean gain {gain_mean:+.3f} is within 2 standard errors ({gain_se:.3f}) of zero: noise")
