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
# # 07 · Convolutional networks
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/dl-course-kit/dl-course-kit/blob/main/notebooks/07_convolutional_networks.ipynb)
#
# A dense layer connects every pixel to every unit: it ignores that neighbouring pixels belong
# together and that a pattern (an edge, a collar) means the same thing wherever it appears. A
# **convolution** slides one small set of weights, a **kernel**, over the whole image: local
# connections and **shared weights**. Stacked with pooling, convolutions give the networks that
# made computer vision work.
#
# ## Learning goals
#
# - compute a convolution **by hand** and check it against `keras.layers.Conv2D`;
# - apply classic **Sobel** edge kernels to a real photograph;
# - predict the output size from **padding** and **stride**: $\lfloor (n + 2p - k)/s \rfloor + 1$;
# - explain **max** and **average pooling**;
# - train a LeNet-style **CNN** on Fashion-MNIST, count its parameters against a dense network,
#   and look at its learned **filters** and **feature maps**;
# - compute the **receptive field** of a stack of layers and verify it with a gradient;
# - follow the line **AlexNet → VGG → ResNet**: depth, parameter counts, and what each one
#   changed (ReLU, dropout, 3×3 stacks, batch normalisation, residuals, global average pooling).

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
import pandas as pd
import skimage
import tensorflow as tf
from skimage import data as skdata

IN_COLAB = "google.colab" in sys.modules
print(f"Python {sys.version.split()[0]} | TensorFlow {tf.__version__} | Keras {keras.__version__}"
      f" | scikit-image {skimage.__version__} | backend {keras.backend.backend()} | Colab: {IN_COLAB}")
keras.utils.set_random_seed(42)  # seeds Python, NumPy and TensorFlow at once

# %% [markdown]
# ## Parameters
#
# `FAST = True` is what the tests and live demos use: a subset and a few epochs, about a minute on
# a laptop CPU. The default is the full lesson: the whole training set for 15 epochs (about 5
# minutes on an idle 2-core CPU, 25 on a busy one; a minute or two on a Colab GPU).

# %% tags=["parameters"]
FAST = False  # True: small data, short training (tests, live demos)
N_TRAIN = 60_000  # training images
EPOCHS = 15  # passes over the training data
BATCH_SIZE = 128

# %%
if FAST:
    N_TRAIN, EPOCHS = 10_000, 4
print(f"FAST={FAST}: {EPOCHS} epochs on {N_TRAIN} images")

# %% [markdown]
# ## 1. A convolution by hand
#
# A 2-D convolution layer computes, for every position $(i, j)$ of the output,
#
# $$y_{ij} = \sum_{u=0}^{k-1}\sum_{v=0}^{k-1} w_{uv}\, x_{i+u,\, j+v} + b :$$
#
# the $k \times k$ kernel is laid on the image, multiplied element-wise with the patch under it and
# summed, then moved by one pixel. (Mathematicians would flip the kernel first and call this a
# cross-correlation; deep learning calls it convolution, and since the kernel is learned the
# difference does not matter.)
#
# The classic example: a 5×5 image, bright on the left (10) and dark on the right (0), and a 3×3
# **vertical-edge** kernel that computes "left column minus right column".

# %%
image5 = np.array([[10, 10, 10, 0, 0]] * 5, dtype="float32")
vertical_edge = np.array([[1, 0, -1]] * 3, dtype="float32")


def correlate_valid(x, k):
    """Slide k over x without padding, stride 1: the definition, written as two loops."""
    out = np.zeros((x.shape[0] - k.shape[0] + 1, x.shape[1] - k.shape[1] + 1), dtype="float32")
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(x[i:i + k.shape[0], j:j + k.shape[1]] * k)
    return out


by_hand = correlate_valid(image5, vertical_edge)
print("input:\n", image5.astype(int))
print("kernel:\n", vertical_edge.astype(int))
print("output (3×3):\n", by_hand.astype(int))

# %% [markdown]
# The output is 0 where the patch is uniform and 30 where it straddles the edge: the kernel is a
# **detector** for vertical edges. The same computation with a Keras layer whose weights we set
# ourselves. `Conv2D` works on batches of images with channels, shape `(batch, height, width,
# channels)`, and its kernel has shape `(k, k, in_channels, out_channels)`.

# %%
conv = keras.layers.Conv2D(filters=1, kernel_size=3, padding="valid")
conv.build((None, 5, 5, 1))
conv.set_weights([vertical_edge.reshape(3, 3, 1, 1), np.zeros(1, dtype="float32")])
by_keras = conv(image5.reshape(1, 5, 5, 1)).numpy()[0, :, :, 0]
print("Conv2D output:\n", by_keras.astype(int))
np.testing.assert_allclose(by_keras, by_hand)
print("NumPy and Keras agree.")

# %% [markdown]
# ## 2. Edge detection on a real photograph: Sobel kernels
#
# The **Sobel** kernels are smoothed versions of the edge detector above, one for horizontal
# changes ($G_x$, which responds to vertical edges) and its transpose ($G_y$):
#
# $$G_x = \begin{pmatrix} 1 & 0 & -1 \\ 2 & 0 & -2 \\ 1 & 0 & -1 \end{pmatrix}, \qquad G_y = G_x^\top,
# \qquad |G| = \sqrt{G_x^2 + G_y^2}.$$
#
# We apply them to scikit-image's `camera` photograph (bundled with the library, no download) with
# a single `Conv2D` layer holding both kernels as two output channels.

# %%
camera = skdata.camera().astype("float32") / 255.0
sobel_x = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], dtype="float32")
sobel = keras.layers.Conv2D(filters=2, kernel_size=3, padding="same", use_bias=False)
sobel.build((None, *camera.shape, 1))
sobel.set_weights([np.stack([sobel_x, sobel_x.T], axis=-1)[:, :, None, :]])  # (3, 3, 1, 2)
edges = sobel(camera[None, :, :, None]).numpy()[0]
gx, gy = edges[..., 0], edges[..., 1]
magnitude = np.sqrt(gx**2 + gy**2)

lim = np.percentile(np.abs(edges), 99)  # a few extreme pixels would wash out the colour scale
signed = dict(cmap="RdBu", vmin=-lim, vmax=lim)  # white = 0, red and blue = the two signs
fig, axes = plt.subplots(1, 4, figsize=(14, 3.8))
panels = [(camera, "original", dict(cmap="gray")), (gx, "$G_x$: vertical edges", signed),
          (gy, "$G_y$: horizontal edges", signed),
          (magnitude, "edge strength $|G|$", dict(cmap="gray_r", vmin=0, vmax=lim))]
for ax, (img, title, style) in zip(axes, panels):
    ax.imshow(img, **style)
    ax.set_title(title)
    ax.axis("off")
fig.suptitle("Sobel kernels applied by a Conv2D layer to skimage's camera image")
plt.show()

# %% [markdown]
# Hand-designed kernels like these were the state of the art before deep learning. A CNN **learns**
# its kernels from data, starting with edge-like detectors in the first layer (section 6).

# %% [markdown]
# ## 3. Padding, stride and the size of the output
#
# Sliding a $k \times k$ kernel over an $n \times n$ image without padding gives $n - k + 1$
# positions per axis: the image shrinks by $k - 1$. Two knobs change that:
#
# - **padding** $p$: add $p$ rows/columns of zeros on each side. Keras' `padding="same"` picks
#   $p = (k - 1)/2$ so that, with stride 1, the output has the input's size; `"valid"` means $p = 0$;
# - **stride** $s$: move the kernel by $s$ pixels instead of 1, which divides the size by about $s$.
#
# $$n_{\text{out}} = \left\lfloor \frac{n + 2p - k}{s} \right\rfloor + 1 .$$
#
# For example $n = 28$, $k = 5$, $p = 0$, $s = 1$: $\lfloor 23/1 \rfloor + 1 = 24$; with $p = 2$ the
# output stays 28; with $s = 2$ and $p = 2$ it becomes $\lfloor 27/2 \rfloor + 1 = 14$.

# %% [markdown]
# ### Exercise 1 — convolution with padding and stride
#
# Write `conv2d(x, k, stride=1, padding=0)` for a single-channel image `x` (2-D array) and kernel
# `k`: pad `x` with `padding` zeros on every side (`np.pad`), then slide `k` with steps of `stride`.
# The output size must follow the formula above.

# %% nbgrader={"grade": false, "grade_id": "ex1_conv2d", "locked": false, "schema_version": 3, "solution": true, "task": false}
def conv2d(x, k, stride=1, padding=0):
    """2-D cross-correlation of x with kernel k, zero padding `padding`, step `stride`."""
    x = np.asarray(x, dtype="float32")
    k = np.asarray(k, dtype="float32")
    ### BEGIN SOLUTION
    x = np.pad(x, padding)
    kh, kw = k.shape
    out_h = (x.shape[0] - kh) // stride + 1
    out_w = (x.shape[1] - kw) // stride + 1
    out = np.zeros((out_h, out_w), dtype="float32")
    for i in range(out_h):
        for j in range(out_w):
            patch = x[i * stride:i * stride + kh, j * stride:j * stride + kw]
            out[i, j] = np.sum(patch * k)
    return out
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex1_conv2d_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
np.testing.assert_allclose(conv2d(image5, vertical_edge), [[0, 30, 30]] * 3)
assert conv2d(np.ones((7, 7)), np.ones((3, 3)), stride=2).shape == (3, 3)
assert conv2d(np.ones((5, 5)), np.ones((3, 3)), padding=1).shape == (5, 5)
### BEGIN HIDDEN TESTS
_x = np.random.default_rng(0).normal(size=(11, 11)).astype("float32")
_k = np.random.default_rng(1).normal(size=(3, 3)).astype("float32")
for _s, _p in [(1, 0), (2, 1), (3, 1), (2, 0)]:
    _ref = tf.nn.conv2d(np.pad(_x, _p)[None, :, :, None], _k[:, :, None, None], strides=_s,
                        padding="VALID").numpy()[0, :, :, 0]
    np.testing.assert_allclose(conv2d(_x, _k, stride=_s, padding=_p), _ref, rtol=1e-4, atol=1e-5)
np.testing.assert_allclose(conv2d(np.ones((3, 3)), np.ones((3, 3)), padding=1)[0, 0], 4.0)
### END HIDDEN TESTS

# %% [markdown]
# Keras agrees with the formula: the shapes printed below are `(batch, height, width, channels)`.

# %%
probe = np.zeros((1, 28, 28, 1), dtype="float32")
for kernel, stride, padding in [(5, 1, "valid"), (5, 1, "same"), (5, 2, "same"), (3, 2, "valid")]:
    shape = keras.layers.Conv2D(8, kernel, strides=stride, padding=padding)(probe).shape
    print(f"k={kernel} s={stride} padding={padding:5s} -> {tuple(shape)}")

# %% [markdown]
# ## 4. Pooling
#
# A **pooling** layer summarises each window (usually 2×2, stride 2) by one number: its **maximum**
# (`MaxPooling2D`: "is the feature present somewhere here?") or its **average**
# (`AveragePooling2D`). It halves height and width, has no weights, and makes the network
# tolerant to small shifts: the maximum of a window does not care where in the window the feature
# was.

# %%
grid = np.array([[1, 3, 2, 0], [4, 6, 1, 1], [0, 2, 9, 5], [1, 1, 7, 3]], dtype="float32")
as_batch = grid.reshape(1, 4, 4, 1)
print("input:\n", grid.astype(int))
print("max pooling 2×2:\n", keras.layers.MaxPooling2D(2)(as_batch).numpy()[0, :, :, 0])
print("average pooling 2×2:\n", keras.layers.AveragePooling2D(2)(as_batch).numpy()[0, :, :, 0])

edge_map = magnitude[None, :, :, None]
pooled = {"edge strength (512×512)": magnitude}
for size in (4, 16):
    pooled[f"max pool {size}×{size} ({512 // size}×{512 // size})"] = (
        keras.layers.MaxPooling2D(size)(edge_map).numpy()[0, :, :, 0])
pooled["average pool 16×16 (32×32)"] = keras.layers.AveragePooling2D(16)(edge_map).numpy()[0, :, :, 0]
fig, axes = plt.subplots(1, 4, figsize=(14, 3.8))
for ax, (title, img) in zip(axes, pooled.items()):
    ax.imshow(img, cmap="gray_r")
    ax.set_title(title, fontsize=10)
    ax.axis("off")
fig.suptitle("Pooling the Sobel edge map: max pooling keeps the strongest edge of each window")
plt.show()

# %% [markdown]
# ## 5. A LeNet-style CNN on Fashion-MNIST
#
# LeNet-5 (LeCun et al., 1998) set the pattern still used today: **convolution → pooling**, again,
# then dense layers for the decision. Our version has two such blocks, modernised with ReLU,
# **batch normalisation** and **dropout** (notebooks 05 and 06):
#
# - block 1: 32 kernels 3×3 on 28×28 → pool → 14×14×32;
# - block 2: 64 kernels 3×3 → pool → 7×7×64;
# - flatten, a dense layer of 256 units, softmax over 10 classes.
#
# The batch-normalisation layers use `momentum=0.9` (Keras' default is 0.99): the running averages
# of $\mu$ and $\sigma^2$ used at test time then follow the fast-changing weights of a short run.
# Adam's learning rate follows a **cosine decay** from $2\cdot10^{-3}$ to 0 over the run: large steps
# first, small ones to settle at the end.

# %%
(x_train_full, y_train_full), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
x_train = x_train_full[:N_TRAIN, :, :, None].astype("float32") / 255.0  # add the channel axis
y_train = y_train_full[:N_TRAIN]
x_test = x_test[:, :, :, None].astype("float32") / 255.0
print("train", x_train.shape, "| test", x_test.shape)


def conv_block(filters, name):
    return [keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv"),
            keras.layers.BatchNormalization(momentum=0.9, name=f"{name}_bn"),
            keras.layers.Activation("relu", name=f"{name}_relu"),
            keras.layers.MaxPooling2D(2, name=f"{name}_pool")]


keras.utils.set_random_seed(42)
cnn = keras.Sequential([
    keras.Input(shape=(28, 28, 1)),
    *conv_block(32, "block1"), keras.layers.Dropout(0.2),
    *conv_block(64, "block2"), keras.layers.Dropout(0.3),
    keras.layers.Flatten(),
    keras.layers.Dense(256, use_bias=False), keras.layers.BatchNormalization(momentum=0.9),
    keras.layers.Activation("relu"), keras.layers.Dropout(0.4),
    keras.layers.Dense(10, activation="softmax"),
], name="lenet_style")
steps = int(np.ceil(0.9 * len(x_train) / BATCH_SIZE)) * EPOCHS
schedule = keras.optimizers.schedules.CosineDecay(2e-3, decay_steps=steps)
cnn.compile(optimizer=keras.optimizers.Adam(schedule), loss="sparse_categorical_crossentropy",
            metrics=["accuracy"])
cnn.summary()

# %%
history = cnn.fit(x_train, y_train, epochs=EPOCHS, batch_size=BATCH_SIZE, validation_split=0.1,
                  verbose=2).history
test_loss, test_accuracy = cnn.evaluate(x_test, y_test, verbose=0)
print(f"CNN test accuracy: {test_accuracy:.4f}")

fig, axes = plt.subplots(1, 2, figsize=(11, 3.5))
epochs_run = range(1, len(history["loss"]) + 1)
for key, label in [("loss", "training"), ("val_loss", "validation")]:
    axes[0].plot(epochs_run, history[key], marker="o", label=label)
for key, label in [("accuracy", "training"), ("val_accuracy", "validation")]:
    axes[1].plot(epochs_run, history[key], marker="o", label=label)
axes[0].set(title="CNN loss", xlabel="epoch", ylabel="cross-entropy")
axes[1].set(title="CNN accuracy", xlabel="epoch", ylabel="accuracy")
axes[1].axhline(test_accuracy, color="gray", ls=":", label="final test accuracy")
for ax in axes:
    ax.legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 6. Where are the parameters?
#
# A `Conv2D` layer with $c_{\text{in}}$ input channels, $c_{\text{out}}$ kernels of size $k \times k$
# has $k \cdot k \cdot c_{\text{in}} \cdot c_{\text{out}}$ weights (+ $c_{\text{out}}$ biases),
# **whatever the size of the image**: the same kernel is reused at every position. A dense layer
# has $n_{\text{in}} \cdot n_{\text{out}}$ weights.

# %% [markdown]
# ### Exercise 2 — output size and parameter count
#
# Write `conv_output_size(n, k, p, s)` (the formula of section 3) and
# `conv_param_count(k, c_in, c_out, bias=True)`. The tests compare them with Keras layers.

# %% nbgrader={"grade": false, "grade_id": "ex2_sizes", "locked": false, "schema_version": 3, "solution": true, "task": false}
def conv_output_size(n, k, p=0, s=1):
    """Height (or width) of the output of a k×k convolution with padding p and stride s."""
    ### BEGIN SOLUTION
    return (n + 2 * p - k) // s + 1
    ### END SOLUTION


def conv_param_count(k, c_in, c_out, bias=True):
    """Number of trainable parameters of a Conv2D layer with c_out kernels of size k×k."""
    ### BEGIN SOLUTION
    return k * k * c_in * c_out + (c_out if bias else 0)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex2_sizes_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
assert conv_output_size(28, 5) == 24
assert conv_output_size(28, 5, p=2, s=2) == 14
assert conv_param_count(3, 1, 32) == 320
### BEGIN HIDDEN TESTS
for _n, _k, _s in [(32, 3, 1), (32, 3, 2), (28, 5, 3), (15, 4, 2)]:
    _layer = keras.layers.Conv2D(4, _k, strides=_s, padding="valid")
    assert conv_output_size(_n, _k, 0, _s) == _layer(np.zeros((1, _n, _n, 3), "float32")).shape[1]
    assert conv_param_count(_k, 3, 4) == _layer.count_params()
assert conv_param_count(3, 32, 64, bias=False) == cnn.get_layer("block2_conv").count_params()
assert conv_output_size(7, 3, p=1, s=1) == 7
### END HIDDEN TESTS

# %% [markdown]
# The parameters of our CNN, layer by layer, and a comparison: a **dense** layer that would map the
# 28×28 image to the same 28×28×32 output as the first convolution would need one weight per
# (input pixel, output value) pair.

# %%
for layer in cnn.layers:
    if layer.count_params():
        print(f"{layer.name:22s} output {str(layer.output.shape):20s} parameters {layer.count_params():>9,}")
conv_total = sum(layer.count_params() for layer in cnn.layers
                 if isinstance(layer, keras.layers.Conv2D))
print(f"\nall convolution kernels together: {conv_total:,} parameters"
      f" ({conv_total / cnn.count_params():.1%} of the CNN's {cnn.count_params():,})")
print(f"first conv layer: {cnn.get_layer('block1_conv').count_params():,} weights;"
      f" a dense layer with the same input and output sizes: {28 * 28 * 28 * 28 * 32:,}")

dense_05 = keras.Sequential([keras.Input(shape=(28, 28)), keras.layers.Flatten(),
                             keras.layers.Dense(512), keras.layers.Dense(256),
                             keras.layers.Dense(10)])
print(f"the dense classifier of notebook 05 (512-256): {dense_05.count_params():,} parameters")

names = ["CNN: conv layers", "CNN: dense head", "dense net of 05"]
counts = [conv_total, cnn.count_params() - conv_total, dense_05.count_params()]
fig, ax = plt.subplots(figsize=(7, 3.2))
ax.barh(names, counts, color=["C0", "C1", "C2"])
ax.set(title="Where the parameters are", xlabel="number of parameters (log scale)", ylabel="part",
       xscale="log")
plt.tight_layout()
plt.show()

# %% [markdown]
# The feature extractor (the convolutions) needs only about 19,000 weights; most of the CNN's
# parameters sit in the dense layer after `Flatten`. With 1.5 times the parameters of the dense
# network of notebook 05, the CNN is clearly more accurate (about 0.92-0.93 against 0.90 in
# the full lessons): weight sharing spends the parameters on local patterns that matter anywhere in
# the image. (Modern CNNs shrink the head further with global average pooling.)

# %% [markdown]
# ## 7. What did it learn? Filters and feature maps
#
# The 32 kernels of the first layer are 3×3 images: red weights excite, blue ones inhibit. Many
# look like the edge detectors of section 2, in different orientations.

# %%
kernels = cnn.get_layer("block1_conv").get_weights()[0][:, :, 0, :]  # (3, 3, 32)
limit = np.abs(kernels).max()
fig, axes = plt.subplots(4, 8, figsize=(10, 5.4))
for i, ax in enumerate(axes.flat):
    ax.imshow(kernels[:, :, i], cmap="RdBu_r", vmin=-limit, vmax=limit)
    ax.set_title(f"filter {i}", fontsize=8)
    ax.axis("off")
fig.suptitle("The 32 learned 3×3 kernels of the first convolution")
plt.show()

# %% [markdown]
# A **feature map** is the output of one kernel over the whole image: where does this pattern
# occur? We build a model that returns the activations after the first and second blocks' ReLU
# and look at them for one test image.

# %%
probe_model = keras.Model(cnn.inputs, [cnn.get_layer("block1_relu").output,
                                       cnn.get_layer("block2_relu").output])
sample = x_test[:1]
maps1, maps2 = (m[0] for m in probe_model.predict(sample, verbose=0))
fig, axes = plt.subplots(3, 8, figsize=(12, 5))
axes[0, 0].imshow(sample[0, :, :, 0], cmap="gray_r")
axes[0, 0].set_title(f"input: {CLASS_NAMES[y_test[0]]}", fontsize=8)
for i, ax in enumerate(axes[0, 1:]):
    ax.imshow(maps1[:, :, i], cmap="viridis")
    ax.set_title(f"block 1, map {i}", fontsize=8)
for i, ax in enumerate(axes[1:].flat):
    ax.imshow(maps2[:, :, i], cmap="viridis")
    ax.set_title(f"block 2, map {i}", fontsize=8)
for ax in axes.flat:
    ax.axis("off")
fig.suptitle("Feature maps: first block (28×28) and second block (14×14)")
plt.show()

# %% [markdown]
# The first-block maps are still recognisable as the garment, each highlighting edges of one
# orientation or the bright or dark regions. After the second block the maps are coarser and more
# abstract: combinations of first-level features, which the dense head turns into a class.

# %% [markdown]
# ## 8. Receptive fields: how much of the image does a unit see?
#
# A unit of the first convolution depends on a 3×3 patch of pixels: its **receptive field** is
# 3×3. A unit of the second convolution depends on a 3×3 patch of the first layer's *output*, and
# each of those values on its own 3×3 patch of pixels; neighbouring patches overlap, so together
# they cover 5×5 pixels. Every layer widens the window, and pooling and strides widen it faster,
# because after a stride-2 layer one step on the feature map is two pixels in the image. This is
# how a CNN made only of small local operations ends up with units that respond to a whole collar
# or a whole shoe: depth buys context.
#
# The bookkeeping needs two numbers per layer: the receptive field $r$ (in input pixels, per side)
# and the **jump** $j$, the distance in input pixels between two neighbouring units of the layer's
# output. The input itself has $r_0 = 1$, $j_0 = 1$. A layer with kernel (or pooling window) $k$
# and stride $s$ gives
#
# $$r_l = r_{l-1} + (k_l - 1)\, j_{l-1}, \qquad j_l = j_{l-1}\, s_l .$$
#
# The kernel adds $k - 1$ neighbours, each $j_{l-1}$ pixels apart; the stride multiplies the
# spacing of everything that follows. Padding does not appear: it decides where the windows sit
# and how big the maps are, not how wide each window is. A 1×1 convolution adds nothing to $r$,
# and a stride applied early costs nothing in weights but multiplies the growth of every later
# layer, which is why networks for large images start with a strided layer or a pooling layer.
# Three stacked 3×3 convolutions give $1 + 2 + 2 + 2 = 7$: the same window as one 7×7
# convolution, a fact we will meet again in VGG.

# %% [markdown]
# ### Exercise 3 — receptive field of a stack of layers
#
# Write `receptive_field(layers)` where `layers` is a list of `(kernel, stride)` pairs, in order
# from the input, for convolutions and pooling layers alike. Return the pair `(r, j)`: the
# receptive field of one unit of the last layer and its jump, both in input pixels. An empty list
# is the input itself, `(1, 1)`.

# %% nbgrader={"grade": false, "grade_id": "ex3_receptive_field", "locked": false, "schema_version": 3, "solution": true, "task": false}
def receptive_field(layers):
    """(receptive field, jump) in input pixels after a chain of (kernel, stride) layers."""
    ### BEGIN SOLUTION
    r, j = 1, 1
    for kernel, stride in layers:
        r += (kernel - 1) * j
        j *= stride
    return r, j
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex3_receptive_field_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
assert receptive_field([]) == (1, 1)
assert receptive_field([(3, 1)] * 3) == (7, 1), "three stacked 3x3 convolutions see 7x7"
assert receptive_field([(2, 2)]) == (2, 2)
### BEGIN HIDDEN TESTS
assert receptive_field([(3, 1), (2, 2), (3, 1)]) == (8, 2)
assert receptive_field([(3, 1), (2, 2), (3, 1), (2, 2)]) == (10, 4)
_vgg16 = ([(3, 1)] * 2 + [(2, 2)]) * 2 + ([(3, 1)] * 3 + [(2, 2)]) * 3
assert receptive_field(_vgg16) == (212, 32)
assert receptive_field([(11, 4), (3, 2), (5, 1), (3, 2), (3, 1), (3, 1), (3, 1), (3, 2)]) == (195, 32)
assert receptive_field([(7, 2), (3, 2), (1, 1), (3, 1)]) == (19, 4)
### END HIDDEN TESTS

# %% [markdown]
# **Checking it empirically.** The receptive field is a statement about dependence: the output
# unit changes when a pixel inside the window changes and does not change otherwise. Gradients
# measure exactly that. We take one unit of `block2_relu` (at the centre of the 14×14 map, in
# the channel most often active there: a ReLU that is off passes no gradient), compute the
# gradient of its value with respect to the input image with `tf.GradientTape`, and look where the gradient is nonzero. One image is not enough: ReLUs that
# are off and max-pooling (whose gradient goes only to the largest value of each window) cut some
# paths for that image, so we take the union over a batch of test images. The formula predicts
# $r = 8$ for conv 3×3 → pool 2×2 → conv 3×3: layers `[(3, 1), (2, 2), (3, 1)]`.

# %%
def nonzero_gradient_extent(model, images, row, col):
    """Gradient of one output unit w.r.t. the images: |grad| averaged over the batch, and the
    height and width of the region where it is nonzero for at least one image. The unit is the
    channel at (row, col) that is most often active (a ReLU that is off has zero gradient)."""
    images = tf.convert_to_tensor(images)
    channel = int(np.argmax(np.mean(model(images, training=False)[:, row, col, :] > 0, axis=0)))
    with tf.GradientTape() as tape:
        tape.watch(images)
        # the sum of the unit over the batch: each image only affects its own copy of the unit
        total = tf.reduce_sum(model(images, training=False)[:, row, col, channel])
    grads = tape.gradient(total, images).numpy()
    strength = np.abs(grads).sum(axis=-1).mean(axis=0)  # (height, width), summed over colour channels
    rows, cols = np.nonzero(strength)
    return strength, (rows.max() - rows.min() + 1, cols.max() - cols.min() + 1)


block2_unit = keras.Model(cnn.inputs, cnn.get_layer("block2_relu").output)
expected_rf, _ = receptive_field([(3, 1), (2, 2), (3, 1)])
lenet_strength, lenet_extent = nonzero_gradient_extent(block2_unit, x_test[:64], 7, 7)
print(f"block2_relu unit (7, 7): formula {expected_rf}×{expected_rf}, "
      f"nonzero gradient over {lenet_extent[0]}×{lenet_extent[1]} pixels")
assert lenet_extent == (expected_rf, expected_rf)

# %% [markdown]
# The same test on a deep network: VGG16's convolutional part, built by `keras.applications` with
# `weights=None` (random weights, no download: we only need the geometry). A unit of
# `block4_conv3` sits behind ten 3×3 convolutions and three 2×2 poolings; on a 112×112 input its
# map is 14×14 and we probe the unit at (7, 7). The picture below shows the average gradient
# magnitude, the **effective** receptive field, for both networks.

# %%
vgg_features = keras.applications.VGG16(weights=None, include_top=False, input_shape=(112, 112, 3))
vgg_block4 = keras.Model(vgg_features.inputs, vgg_features.get_layer("block4_conv3").output)
vgg_layers_to_block4 = [(layer.kernel_size[0], layer.strides[0]) if hasattr(layer, "kernel_size")
                        else (layer.pool_size[0], layer.strides[0])
                        for layer in vgg_block4.layers[1:]]  # skip the input layer
vgg_rf, vgg_jump = receptive_field(vgg_layers_to_block4)
noise = np.random.default_rng(0).uniform(0, 255, size=(2, 112, 112, 3)).astype("float32")
vgg_strength, vgg_extent = nonzero_gradient_extent(vgg_block4, noise, 7, 7)
print(f"VGG16 block4_conv3 unit (7, 7): formula {vgg_rf}×{vgg_rf} (jump {vgg_jump}), "
      f"nonzero gradient over {vgg_extent[0]}×{vgg_extent[1]} pixels")
assert vgg_extent == (vgg_rf, vgg_rf)

fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
for ax, strength, name, r in [(axes[0], lenet_strength, "our CNN, block2_relu", expected_rf),
                              (axes[1], vgg_strength, "VGG16 (random weights), block4_conv3", vgg_rf)]:
    rows, cols = np.nonzero(strength)
    ax.imshow(strength, cmap="magma")
    ax.add_patch(plt.Rectangle((cols.min() - 0.5, rows.min() - 0.5), r, r, fill=False, ec="cyan", lw=1.5))
    ax.set(title=f"{name}: theoretical RF {r}×{r}", xlabel="input column (pixel)",
           ylabel="input row (pixel)")
fig.suptitle("Mean |gradient| of one unit w.r.t. the input: the effective receptive field")
plt.tight_layout()
plt.show()

# %% [markdown]
# The nonzero region is exactly the square the formula predicts (cyan), for the small CNN and for
# the 13-layer-deep VGG unit. Inside the square the gradient is far from uniform: it is strongest
# in the centre and fades towards the border. That is the **effective receptive field** (Luo et
# al., 2016): a central pixel reaches the unit through many paths (every overlapping window that
# contains it), a border pixel through only a few, so the influence is roughly bell-shaped and
# covers a fraction of the theoretical square. A network whose theoretical receptive field just
# matches the size of an object therefore tends to see mostly its centre; architectures make the
# theoretical field comfortably larger than the objects they must recognise.

# %% [markdown]
# ## 9. From LeNet to AlexNet, VGG and ResNet
#
# Our CNN follows LeNet-5's recipe on 28×28 images. Three ImageNet networks (1.2 million
# photographs, 1,000 classes, 224×224 pixels) show how the recipe grew between 2012 and 2015:
#
# - **AlexNet** (Krizhevsky, Sutskever & Hinton, 2012) won the 2012 ImageNet challenge (ILSVRC)
#   with a top-5 error of 15.3 %, against 26.2 % for the best entry without a CNN. It is LeNet made
#   bigger, plus the ingredients that made the size trainable: **ReLU** instead of saturating
#   tanh (in the paper, a small CNN reached 25 % training error on CIFAR-10 six times
#   faster with ReLU), **dropout** (0.5) in the two
#   huge dense layers, data augmentation (random crops and flips), and two GPUs. Its first layer
#   uses 11×11 kernels with stride 4 to shrink the image fast.
# - **VGG** (Simonyan & Zisserman, 2015) asked what depth alone buys, and used only **3×3
#   convolutions** (stride 1, `same` padding) in blocks separated by 2×2 max-pooling, doubling the
#   channels after each pooling: 16 or 19 weighted layers. Two stacked 3×3 layers see 5×5 pixels,
#   three see 7×7 (section 8), with fewer weights and more ReLUs than one big kernel.
# - **ResNet** (He, Zhang, Ren & Sun, 2016) won ILSVRC 2015 (top-5 error 3.57 % with an ensemble).
#   A plain 34-layer stack had trained *worse* than an 18-layer one, on the training set too: an
#   optimisation problem, not overfitting. A **residual block** computes $x + F(x)$, so a block
#   that is not needed can learn $F \approx 0$ and pass its input through, and gradients flow back
#   through the identity shortcuts. With **batch normalisation** after every convolution, 1×1
#   "bottleneck" convolutions that shrink the channels before the 3×3 one and expand them after,
#   and **global average pooling** instead of a big dense head, ResNet-50 is 50 layers deep with
#   fewer parameters than AlexNet.
#
# AlexNet is not in `keras.applications`, so we write a compact single-stream version. The
# original split layers 2, 4 and 5 between two GPUs (each half saw only half of the previous
# layer's channels, about 60 million parameters in all) and normalised activations with "local
# response normalisation", which later work found unnecessary; we leave both out. The paper
# states a 224×224 input, but 11×11 kernels with stride 4 only tile 227×227 pixels, the size
# reimplementations use.

# %%
def alexnet(input_shape=(227, 227, 3), classes=1000):
    """AlexNet (Krizhevsky et al., 2012), one stream, without local response normalisation."""
    conv = keras.layers.Conv2D
    pool = keras.layers.MaxPooling2D
    return keras.Sequential([
        keras.Input(shape=input_shape),
        conv(96, 11, strides=4, activation="relu", name="conv1"),  # 55×55×96
        pool(3, strides=2, name="pool1"),  # overlapping pooling: 27×27
        conv(256, 5, padding="same", activation="relu", name="conv2"),
        pool(3, strides=2, name="pool2"),  # 13×13
        conv(384, 3, padding="same", activation="relu", name="conv3"),
        conv(384, 3, padding="same", activation="relu", name="conv4"),
        conv(256, 3, padding="same", activation="relu", name="conv5"),
        pool(3, strides=2, name="pool5"),  # 6×6×256 = 9,216 values
        keras.layers.Flatten(),
        keras.layers.Dropout(0.5), keras.layers.Dense(4096, activation="relu", name="fc6"),
        keras.layers.Dropout(0.5), keras.layers.Dense(4096, activation="relu", name="fc7"),
        keras.layers.Dense(classes, activation="softmax", name="fc8"),
    ], name="alexnet")


def main_path_geometry(model):
    """(kernel, stride) of the convolutions and poolings on the main path, in order. ResNet's
    1×1 projection shortcuts (names ending in _0_conv) run beside the main path: skipped."""
    geometry = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D) and not layer.name.endswith("_0_conv"):
            geometry.append((layer.kernel_size[0], layer.strides[0]))
        elif isinstance(layer, (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D)):
            geometry.append((layer.pool_size[0], layer.strides[0]))
    return geometry


def describe(model, year, input_size):
    weighted = [layer for layer in model.layers
                if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense))]
    dense_params = sum(layer.count_params() for layer in weighted
                       if isinstance(layer, keras.layers.Dense))
    return {"network": model.name, "year": year, "input": f"{input_size}×{input_size}",
            "Conv2D + Dense layers": len(weighted), "parameters": model.count_params(),
            "share in dense layers": dense_params / model.count_params(),
            "receptive field (last conv/pool)": receptive_field(main_path_geometry(model))[0]}


family = [(cnn, 1998, 28)]  # our LeNet-style CNN stands in for LeNet-5
for build, year, size in [(alexnet, 2012, 227), (keras.applications.VGG16, 2014, 224),
                          (keras.applications.ResNet50, 2015, 224)]:
    model = build() if build is alexnet else build(weights=None)  # weights=None: no download
    family.append((model, year, size))
lineage = pd.DataFrame([describe(*entry) for entry in family]).set_index("network")
print(lineage.to_string(formatters={"parameters": "{:,}".format,
                                    "share in dense layers": "{:.0%}".format}))

# %%
fig, ax = plt.subplots(figsize=(8, 3.8))
for i, (name, row) in enumerate(lineage.iterrows()):
    ax.scatter(row["Conv2D + Dense layers"], row["parameters"], s=80, color=f"C{i}")
    ax.annotate(f"{name} ({row['year']})", (row["Conv2D + Dense layers"], row["parameters"]),
                textcoords="offset points", xytext=(8, -4))
ax.set(title="Deeper is not bigger: depth and parameter count of four CNNs",
       xlabel="weighted layers (Conv2D + Dense)", ylabel="parameters (log scale)", yscale="log",
       xlim=(0, 75))
plt.tight_layout()
plt.show()
del family, model  # free the ~900 MB of random ImageNet-sized weights

# %% [markdown]
# Read the table column by column.
#
# **Parameters.** AlexNet has about 62 million parameters (60 million in the two-GPU original),
# VGG16 138 million, ResNet50 25.6 million. Where they sit matters more than how many there are:
# 94 % of AlexNet's and 89 % of VGG16's parameters are in the dense layers after `Flatten`
# (VGG16's first dense layer alone maps 7×7×512 = 25,088 values to 4,096 units: 103 million
# weights), the same imbalance we saw in our small CNN in section 6. ResNet replaces that head
# with global average pooling, one average per channel, followed by a single 2,048 → 1,000 dense
# layer: 8 % of its parameters. The convolutions do the work; the head only needs to read it out.
#
# **Depth.** The count of weighted layers goes 4, 8, 16, 54. ResNet50 shows 54 because Keras'
# graph also contains the four 1×1 "projection" convolutions on the shortcuts where the shape
# changes; the name counts the 49 convolutions and 1 dense layer on the main path. Depth is what
# changed the most, and each step needed a new tool: ReLU and dropout to train AlexNet's size,
# careful initialisation for VGG (the 16- and 19-layer models were initialised from shallower
# trained ones at first), batch normalisation and residual connections for ResNet.
#
# **Receptive field.** The last layer's units see 10×10 pixels in our CNN (of 28×28), 195×195 in
# AlexNet, 212×212 in VGG16 and 483×483 in ResNet50: more than the 224×224 image, so every final
# unit can take the whole image into account, even if (section 8) it weights the centre of its
# field most. AlexNet reached a large field with a few big, strided kernels; VGG with many 3×3
# ones.
#
# **Why 3×3 stacks.** With $C$ channels in and out, three 3×3 layers have $3 \cdot 9 C^2 = 27C^2$
# weights, one 7×7 layer $49C^2$: 45 % fewer for the same 7×7 window, and three ReLUs instead of
# one, so the stack can compute functions that a single linear filter followed by one ReLU cannot.
# The price is more sequential layers, and therefore deeper gradients, which is the problem
# ResNet's shortcuts address.

# %% [markdown]
# ### Exercise 4 (conceptual) — receptive fields and small kernels
#
# Answer by reasoning, without new code.
#
# 1. `RF_AFTER_BLOCK2`: the receptive field (pixels per side, an `int`) of one unit of
#    `block2_pool`, the output of our CNN's second block (conv 3×3, pool 2×2, conv 3×3, pool 2×2).
# 2. `WHY_3X3`: VGG replaced large kernels by stacks of 3×3 convolutions. Which statement is
#    true? (one letter)
#    - a) a stack of three 3×3 layers sees a larger window than one 7×7 layer, which is why it is
#      more accurate;
#    - b) it sees the same 7×7 window with fewer weights and more nonlinearities;
#    - c) it has more weights than one 7×7 layer, but runs faster because the kernels are small;
#    - d) the two are the same function, since a composition of convolutions is a convolution.

# %% nbgrader={"grade": false, "grade_id": "concept_receptive_fields", "locked": false, "schema_version": 3, "solution": true, "task": false}
# RF_AFTER_BLOCK2 = ...  # an int
# WHY_3X3 = ...  # one of "a", "b", "c", "d"
### BEGIN SOLUTION
RF_AFTER_BLOCK2 = 10
WHY_3X3 = "b"
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "concept_receptive_fields_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
assert isinstance(RF_AFTER_BLOCK2, int), "RF_AFTER_BLOCK2 is a whole number of pixels"
assert WHY_3X3 in ("a", "b", "c", "d"), "WHY_3X3 is one letter, a to d"
### BEGIN HIDDEN TESTS
assert RF_AFTER_BLOCK2 == 10
assert WHY_3X3 == "b"
### END HIDDEN TESTS

# %% [markdown]
# ## Common pitfalls
#
# - **A missing channel axis.** `Conv2D` expects `(batch, height, width, channels)`; grey-scale
#   images loaded as `(n, 28, 28)` need `[..., None]`. The error message mentions `ndim=4`.
# - **Shrinking the map to nothing.** Every `valid` convolution removes $k - 1$ pixels and every
#   pooling halves the size: five 2×2 poolings take 28×28 down to nothing (28, 14, 7, 3, 1, 0)
#   and Keras refuses to build the model. Print `model.summary()` and follow the output shapes.
# - **Putting the parameters in the wrong place.** A `Flatten` followed by a wide `Dense` layer
#   holds most of the weights (section 6, and AlexNet's and VGG's heads); if the model is huge or
#   overfits, look there first and consider `GlobalAveragePooling2D`.
# - **Trusting the theoretical receptive field.** It is an upper bound: the effective field is
#   concentrated in its centre (section 8). If objects are larger than the units' fields, or sit at
#   the border, add depth or pooling rather than hoping.
# - **Forgetting inference mode.** Dropout and batch normalisation behave differently in training;
#   gradients or predictions for analysis must be computed with `training=False` (as
#   `nonzero_gradient_extent` does), or the numbers change from call to call.
# - **Mixing up `keras.applications` conventions.** `weights="imagenet"` downloads files (it fails
#   offline; `weights=None` builds the same architecture with random weights), and each family has
#   its own `preprocess_input` (VGG and ResNet50 expect BGR images with the ImageNet mean
#   subtracted; MobileNetV2, for example, scales to [-1, 1]). Feeding 0-1 images to a pretrained
#   VGG silently gives poor predictions.
#
# ## What we reached
#
# The check: test accuracy of the CNN. The full lesson's target is 0.92 (the recorded full run
# reached 0.931, against 0.898 for the dense network of notebook 05); FAST mode, 10,000 images and 4 epochs, must pass 0.83.
#
# Recorded by `benchmarks/notebooks.py` for `test_accuracy`: FAST mode 0.8722 (target ≥ 0.83, 39 s, 2026-11-23); full lesson 0.9309 (target ≥ 0.92, 1474 s, 2026-11-22).
#
# ## Further reading
#
# - LeCun, Bottou, Bengio & Haffner (1998), *Gradient-based learning applied to document
#   recognition*, Proceedings of the IEEE: LeNet-5.
# - Krizhevsky, Sutskever & Hinton (2012), *ImageNet classification with deep convolutional neural
#   networks*, NeurIPS: AlexNet.
# - Simonyan & Zisserman (2015), *Very deep convolutional networks for large-scale image
#   recognition*, ICLR: VGG.
# - He, Zhang, Ren & Sun (2016), *Deep residual learning for image recognition*, CVPR: ResNet.
# - Luo, Li, Urtasun & Zemel (2016), *Understanding the effective receptive field in deep
#   convolutional neural networks*, NeurIPS.
# - Dumoulin & Visin (2016), *A guide to convolution arithmetic for deep learning*, arXiv:1603.07285.
# - Goodfellow, Bengio & Courville (2016), *Deep Learning*, MIT Press, chapter 9 (convolutional
#   networks).

# %% tags=["check"]
RESULT = {"metric": "test_accuracy", "value": round(float(test_accuracy), 4),
          "target": 0.83 if FAST else 0.92}
print(RESULT)
assert RESULT["value"] >= RESULT["target"], f"accuracy {RESULT['value']} below {RESULT['target']}"
