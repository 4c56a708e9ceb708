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
#   and look at its learned **filters** and **feature maps**.

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
#
# ## What we reached
#
# The check: test accuracy of the CNN. The full lesson's target is 0.92 (the recorded full run
# reached 0.931, against 0.898 for the dense network of notebook 05); FAST mode, 10,000 images and 4 epochs, must pass 0.83.

# %% tags=["check"]
RESULT = {"metric": "test_accuracy", "value": round(float(test_accuracy), 4),
          "target": 0.83 if FAST else 0.92}
print(RESULT)
assert RESULT["value"] >= RESULT["target"], f"accuracy {RESULT['value']} below {RESULT['target']}"
