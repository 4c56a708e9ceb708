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
# # 09 · Detection and segmentation
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/dl-course-kit/dl-course-kit/blob/main/notebooks/09_detection_and_segmentation.ipynb)
#
# Classification answers *what* is in an image. Many applications also need *where*: a box around
# each object (**detection**) or a label for every pixel (**segmentation**). This notebook defines
# these tasks and the metric they share, **intersection over union**, then trains a box regressor
# and a small **U-Net** on images we generate ourselves, so the ground truth is exact and nothing
# needs downloading.
#
# ## Learning goals
#
# - tell apart classification, localisation, detection and semantic segmentation, and their
#   outputs;
# - compute **IoU** for boxes and **mean IoU** for masks by hand, and check them against Keras;
# - train a CNN that regresses a bounding box $(x, y, w, h)$ and judge it by IoU;
# - build a **U-Net** (encoder, decoder, skip connections) and read its predicted masks.

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
import matplotlib.patches as mpatches
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
# `FAST = True` (tests, live demos) generates a couple of thousand small images and trains for a
# few epochs; the default is the full lesson.

# %% tags=["parameters"]
FAST = False  # True: small data, short training (tests, live demos)
SIZE = 32  # images are SIZE x SIZE pixels
N_BOX = 8_000  # training images for box regression
BOX_EPOCHS = 15
N_SEG = 6_000  # training images for segmentation
SEG_EPOCHS = 20
BASE_FILTERS = 16  # width of the U-Net's first level (doubles at each level down)

# %%
if FAST:
    N_BOX, BOX_EPOCHS, N_SEG, SEG_EPOCHS = 2_000, 5, 1_500, 8
print(f"FAST={FAST}: box regression {BOX_EPOCHS} epochs on {N_BOX} images, "
      f"U-Net (width {BASE_FILTERS}) {SEG_EPOCHS} epochs on {N_SEG} images")

# %% [markdown]
# ## 1. Four tasks, four outputs
#
# | task | question | output for one image |
# |---|---|---|
# | classification | what is it? | one class |
# | localisation | what and where (one object)? | a class and one box $(x, y, w, h)$ |
# | detection | what and where (every object)? | a variable-length list of (class, box, score) |
# | semantic segmentation | which class is each pixel? | a mask of shape $(H, W)$ |
#
# We generate images of shapes on a noisy background. Each pixel of the mask holds the class of
# the shape covering it: 0 background, 1 circle, 2 square, 3 triangle. The box of an object is
# the tightest rectangle around its mask: top-left corner $(x, y)$, width $w$, height $h$, all
# divided by the image size so that they lie in $[0, 1]$.

# %%
SHAPES = ["background", "circle", "square", "triangle"]


def draw_shape(mask, kind, rng, size):
    """Paint one random shape of class `kind` (1-3) into `mask` in place."""
    r = rng.uniform(0.12, 0.25) * size
    cx, cy = rng.uniform(r, size - r, 2)
    yy, xx = np.mgrid[:size, :size] + 0.5
    if kind == 1:
        inside = (xx - cx) ** 2 + (yy - cy) ** 2 <= r**2
    elif kind == 2:
        inside = (np.abs(xx - cx) <= r) & (np.abs(yy - cy) <= r)
    else:  # apex at the top, base at the bottom
        inside = (yy <= cy + r) & (np.abs(xx - cx) <= (yy - (cy - r)) / 2)
    mask[inside] = kind


def make_scenes(n, max_shapes=3, size=SIZE, seed=0):
    """n noisy images with 1..max_shapes shapes, their class masks (n, size, size)."""
    rng = np.random.default_rng(seed)
    masks = np.zeros((n, size, size), dtype="int32")
    for mask in masks:
        for _ in range(rng.integers(1, max_shapes + 1)):
            draw_shape(mask, rng.integers(1, 4), rng, size)
    brightness = rng.uniform(0.5, 1.0, (n, 1, 1))
    images = np.where(masks > 0, brightness, 0.0) + rng.normal(0.0, 0.2, masks.shape)
    return images[..., None].astype("float32"), masks


def mask_to_box(mask):
    """Tightest (x, y, w, h) around the non-zero pixels, divided by the image size."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    size = mask.shape[0]
    return np.array([cols[0], rows[0], cols[-1] + 1 - cols[0], rows[-1] + 1 - rows[0]]) / size


demo_images, demo_masks = make_scenes(4, max_shapes=1, seed=1)
fig, axes = plt.subplots(2, 4, figsize=(10, 5))
for col in range(4):
    x, y, w, h = mask_to_box(demo_masks[col]) * SIZE
    kind = demo_masks[col].max()
    axes[0, col].imshow(demo_images[col, :, :, 0], cmap="gray")
    axes[0, col].add_patch(mpatches.Rectangle((x - 0.5, y - 0.5), w, h, fill=False, color="lime"))
    axes[0, col].set_title(f"image + box: {SHAPES[kind]}", fontsize=9)
    axes[1, col].imshow(demo_masks[col], cmap="viridis", vmin=0, vmax=3)
    axes[1, col].set_title("mask (class per pixel)", fontsize=9)
for ax in axes.flat:
    ax.axis("off")
fig.suptitle("Generated data: localisation target (top) and segmentation target (bottom)")
plt.show()

# %% [markdown]
# ## 2. Intersection over union
#
# A predicted box is good when it overlaps the true one a lot and spills out little. **IoU**
# (the Jaccard index) measures both at once:
#
# $$\mathrm{IoU}(A, B) = \frac{|A \cap B|}{|A \cup B|} = \frac{|A \cap B|}{|A| + |B| - |A \cap B|}
# \in [0, 1].$$
#
# For axis-aligned boxes the intersection is itself a box: its left edge is the larger of the
# two left edges, its right edge the smaller of the two right edges (and likewise vertically);
# if right < left the width is 0. Detection benchmarks usually count a prediction as correct when
# IoU ≥ 0.5.
#
# ### Exercise 1 — IoU of boxes
#
# Write `box_iou(a, b)` for arrays of boxes of shape `(n, 4)` in the format $(x, y, w, h)$
# ($(x, y)$ is the top-left corner). Return the `n` IoUs as a NumPy array, vectorised (no Python
# loop). Boxes that do not overlap have IoU 0.

# %% nbgrader={"grade": false, "grade_id": "ex1_box_iou", "locked": false, "schema_version": 3, "solution": true, "task": false}
def box_iou(a, b):
    """IoU of boxes a[i] and b[i], both (n, 4) arrays of (x, y, w, h)."""
    a, b = np.asarray(a, dtype="float64"), np.asarray(b, dtype="float64")
    ### BEGIN SOLUTION
    left = np.maximum(a[:, 0], b[:, 0])
    top = np.maximum(a[:, 1], b[:, 1])
    right = np.minimum(a[:, 0] + a[:, 2], b[:, 0] + b[:, 2])
    bottom = np.minimum(a[:, 1] + a[:, 3], b[:, 1] + b[:, 3])
    inter = np.clip(right - left, 0, None) * np.clip(bottom - top, 0, None)
    union = a[:, 2] * a[:, 3] + b[:, 2] * b[:, 3] - inter
    return inter / union
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex1_box_iou_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
_a = np.array([[0, 0, 2, 2], [0, 0, 2, 2]])
_b = np.array([[1, 1, 2, 2], [0, 0, 2, 2]])
np.testing.assert_allclose(box_iou(_a, _b), [1 / 7, 1.0], rtol=1e-6)
### BEGIN HIDDEN TESTS
np.testing.assert_allclose(box_iou([[0, 0, 1, 1]], [[3, 3, 1, 1]]), [0.0])  # disjoint
np.testing.assert_allclose(box_iou([[0, 0, 1, 1]], [[1, 0, 1, 1]]), [0.0])  # touching edges
np.testing.assert_allclose(box_iou([[0, 0, 4, 4]], [[1, 1, 2, 2]]), [0.25])  # inside
np.testing.assert_allclose(box_iou([[0, 5, 2, 1]], [[1, 0, 1, 10]]), [1 / 11])  # a cross
_r = np.random.default_rng(3).uniform(0.1, 1, (50, 4))
np.testing.assert_allclose(box_iou(_r, _r[::-1]), box_iou(_r[::-1], _r))  # symmetric
assert np.all((box_iou(_r, _r[::-1]) >= 0) & (box_iou(_r, _r[::-1]) <= 1))
### END HIDDEN TESTS

# %% [markdown]
# For masks, IoU is computed **per class** over all pixels: for class $c$, the intersection is
# the number of pixels predicted $c$ that truly are $c$ (true positives, $TP_c$), the union adds
# the false positives and false negatives. **Mean IoU** averages over the classes:
#
# $$\mathrm{mIoU} = \frac{1}{C}\sum_{c=1}^{C} \frac{TP_c}{TP_c + FP_c + FN_c}.$$
#
# Unlike pixel accuracy, it is not fooled by a large background: predicting "background"
# everywhere gives a high accuracy but an IoU of 0 for every shape class.
#
# ### Exercise 2 — mean IoU of masks
#
# Write `mean_iou(y_true, y_pred, num_classes)` for integer masks of any (equal) shape. Average
# the per-class IoU over the classes that appear in the truth *or* the prediction (a class absent
# from both has a 0/0 IoU and is skipped, as `keras.metrics.MeanIoU` does).

# %% nbgrader={"grade": false, "grade_id": "ex2_mean_iou", "locked": false, "schema_version": 3, "solution": true, "task": false}
def mean_iou(y_true, y_pred, num_classes):
    """Mean over classes of TP / (TP + FP + FN), skipping classes absent from both masks."""
    y_true, y_pred = np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()
    ### BEGIN SOLUTION
    ious = []
    for c in range(num_classes):
        true_c, pred_c = y_true == c, y_pred == c
        union = np.sum(true_c | pred_c)
        if union > 0:
            ious.append(np.sum(true_c & pred_c) / union)
    return float(np.mean(ious))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex2_mean_iou_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
_t = np.array([[0, 0, 1], [1, 2, 2]])
_p = np.array([[0, 1, 1], [1, 2, 0]])
# class 0: TP 1, union 3; class 1: TP 2, union 3; class 2: TP 1, union 2
np.testing.assert_allclose(mean_iou(_t, _p, 3), (1 / 3 + 2 / 3 + 1 / 2) / 3, rtol=1e-6)
### BEGIN HIDDEN TESTS
np.testing.assert_allclose(mean_iou(_t, _t, 5), 1.0)  # classes 3 and 4 absent: skipped
_rng = np.random.default_rng(7)
_t2, _p2 = _rng.integers(0, 4, (3, 10, 10)), _rng.integers(0, 4, (3, 10, 10))
_keras_miou = keras.metrics.MeanIoU(num_classes=4)
_keras_miou.update_state(_t2.ravel(), _p2.ravel())
np.testing.assert_allclose(mean_iou(_t2, _p2, 4), float(_keras_miou.result()), rtol=1e-5)
### END HIDDEN TESTS

# %% [markdown]
# Our hand-made metrics agree with Keras: `keras.metrics.IoU` on one class, `MeanIoU` on all of
# them (both accumulate a confusion matrix over batches).

# %%
print("box IoU, two 2x2 squares offset by 1:", box_iou([[0, 0, 2, 2]], [[1, 1, 2, 2]])[0])
_, pred_masks_demo = make_scenes(4, max_shapes=1, seed=2)  # some other masks as a "prediction"
keras_miou = keras.metrics.MeanIoU(num_classes=4)
keras_miou.update_state(demo_masks.ravel(), pred_masks_demo.ravel())
keras_iou_bg = keras.metrics.IoU(num_classes=4, target_class_ids=[0])
keras_iou_bg.update_state(demo_masks.ravel(), pred_masks_demo.ravel())
print(f"mean IoU by hand {mean_iou(demo_masks, pred_masks_demo, 4):.4f} "
      f"| keras.metrics.MeanIoU {float(keras_miou.result()):.4f}")
print(f"background IoU: keras.metrics.IoU {float(keras_iou_bg.result()):.4f}")

# %% [markdown]
# ## 3. Localisation: regressing a box
#
# With exactly one object per image, localisation is plain **regression**: a CNN outputs four
# numbers, squashed to $[0, 1]$ by a sigmoid, trained against the true $(x, y, w, h)$. (Real
# detectors such as YOLO or Faster R-CNN predict many candidate boxes, each with a class score,
# and keep the best ones with *non-maximum suppression*; the box regression inside them is the
# same idea.) We use the Huber loss, which behaves like the squared error for small errors and
# like the absolute error for large ones.

# %%
box_images, box_masks = make_scenes(N_BOX + 500, max_shapes=1, seed=10)
boxes = np.stack([mask_to_box(m) for m in box_masks]).astype("float32")
x_box, y_box = box_images[:N_BOX], boxes[:N_BOX]
x_box_test, y_box_test = box_images[N_BOX:], boxes[N_BOX:]

box_model = keras.Sequential([
    keras.Input(shape=(SIZE, SIZE, 1)),
    keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
    keras.layers.MaxPooling2D(),
    keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
    keras.layers.MaxPooling2D(),
    keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
    keras.layers.MaxPooling2D(),
    keras.layers.Flatten(),  # keep *where* things are: no global pooling here
    keras.layers.Dense(64, activation="relu"),
    keras.layers.Dense(4, activation="sigmoid"),
], name="box_regressor")
box_model.compile(optimizer="adam", loss=keras.losses.Huber(delta=0.1))
box_fit = box_model.fit(x_box, y_box, epochs=BOX_EPOCHS, batch_size=32, validation_split=0.1,
                        verbose=2)

pred_boxes = box_model.predict(x_box_test, verbose=0)
box_ious = box_iou(y_box_test, pred_boxes)
mean_box = np.tile(y_box.mean(axis=0), (len(y_box_test), 1))  # always predict the average box
baseline_iou = box_iou(y_box_test, mean_box).mean()
print(f"test box IoU: {box_ious.mean():.3f} (average-box baseline {baseline_iou:.3f}); "
      f"IoU >= 0.5 for {np.mean(box_ious >= 0.5):.0%} of the images")

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
axes[0].plot(box_fit.history["loss"], marker="o", label="training")
axes[0].plot(box_fit.history["val_loss"], marker="o", label="validation")
axes[0].set(title="Box regression: learning curve", xlabel="epoch", ylabel="Huber loss")
axes[0].legend()
axes[1].hist(box_ious, bins=20, range=(0, 1), color="C2")
axes[1].axvline(baseline_iou, color="k", ls="--", label="average-box baseline")
axes[1].set(title="IoU of predicted boxes (test images)", xlabel="IoU", ylabel="images")
axes[1].legend()
plt.tight_layout()
plt.show()

fig, axes = plt.subplots(1, 6, figsize=(12, 2.6))
for ax, image, true, pred, iou in zip(axes, x_box_test, y_box_test, pred_boxes, box_ious):
    ax.imshow(image[:, :, 0], cmap="gray")
    for box, color in ((true, "lime"), (pred, "red")):
        x, y, w, h = box * SIZE
        ax.add_patch(mpatches.Rectangle((x - 0.5, y - 0.5), w, h, fill=False, color=color, lw=1.5))
    ax.set_title(f"IoU {iou:.2f}", fontsize=9)
    ax.axis("off")
fig.suptitle("Boxes on test images: truth in green, prediction in red")
plt.show()

# %% [markdown]
# ## 4. Segmentation with a U-Net
#
# A segmentation network must output a full-resolution map, yet it needs the large receptive
# field of a downsampling CNN to recognise shapes. The **U-Net** (Ronneberger et al., 2015) does
# both:
#
# - the **encoder** halves the resolution and doubles the channels at each level (what is
#   there);
# - the **decoder** upsamples back with transposed convolutions (`Conv2DTranspose`);
# - **skip connections** concatenate each encoder level to the decoder level of the same size,
#   giving back the fine detail (where exactly the edges are) that pooling threw away.
#
# The output has one softmax over the 4 classes *per pixel*, trained with the per-pixel
# cross-entropy.

# %%
def conv_block(x, filters):
    x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
    return keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(x)


def build_unet(size=SIZE, n_classes=4, base=BASE_FILTERS, depth=2):
    inputs = keras.Input(shape=(size, size, 1))
    x, skips = inputs, []
    for level in range(depth):  # encoder: 32 -> 16 -> 8 pixels
        x = conv_block(x, base * 2**level)
        skips.append(x)
        x = keras.layers.MaxPooling2D()(x)
    x = conv_block(x, base * 2**depth)  # bottleneck
    for level in reversed(range(depth)):  # decoder: 8 -> 16 -> 32 pixels
        x = keras.layers.Conv2DTranspose(base * 2**level, 2, strides=2, padding="same")(x)
        x = keras.layers.Concatenate()([x, skips[level]])  # the U's horizontal bars
        x = conv_block(x, base * 2**level)
    outputs = keras.layers.Conv2D(n_classes, 1, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="unet")


seg_images, seg_masks = make_scenes(N_SEG + 300, max_shapes=3, seed=20)
x_seg, y_seg = seg_images[:N_SEG], seg_masks[:N_SEG]
x_seg_test, y_seg_test = seg_images[N_SEG:], seg_masks[N_SEG:]

unet = build_unet()
unet.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy",
             metrics=[keras.metrics.MeanIoU(num_classes=4, sparse_y_pred=False, name="mean_iou")])
print(f"U-Net: {unet.count_params():,} parameters")
seg_fit = unet.fit(x_seg, y_seg, epochs=SEG_EPOCHS, batch_size=32, validation_split=0.1,
                   verbose=2)

pred_masks = unet.predict(x_seg_test, verbose=0).argmax(axis=-1)
test_miou = mean_iou(y_seg_test, pred_masks, 4)
per_class = [np.sum((y_seg_test == c) & (pred_masks == c)) / np.sum((y_seg_test == c) | (pred_masks == c))
             for c in range(4)]
print(f"test mean IoU {test_miou:.3f} | per class: "
      + ", ".join(f"{name} {iou:.2f}" for name, iou in zip(SHAPES, per_class)))
print(f"pixel accuracy {np.mean(pred_masks == y_seg_test):.3f} "
      f"(all-background would score {np.mean(y_seg_test == 0):.3f})")

# %%
fig, ax = plt.subplots(figsize=(5.5, 3.5))
ax.plot(seg_fit.history["mean_iou"], marker="o", label="training")
ax.plot(seg_fit.history["val_mean_iou"], marker="o", label="validation")
ax.set(title="U-Net: mean IoU during training", xlabel="epoch", ylabel="mean IoU")
ax.legend()
plt.show()

fig, axes = plt.subplots(3, 6, figsize=(12, 6.5))
for col in range(6):
    axes[0, col].imshow(x_seg_test[col, :, :, 0], cmap="gray")
    axes[0, col].set_title("image", fontsize=9)
    axes[1, col].imshow(y_seg_test[col], cmap="viridis", vmin=0, vmax=3)
    axes[1, col].set_title("true mask", fontsize=9)
    axes[2, col].imshow(pred_masks[col], cmap="viridis", vmin=0, vmax=3)
    axes[2, col].set_title(f"U-Net (mIoU {mean_iou(y_seg_test[col], pred_masks[col], 4):.2f})",
                           fontsize=9)
for ax in axes.flat:
    ax.axis("off")
colors = plt.cm.viridis(np.linspace(0, 1, 4))
fig.legend(handles=[mpatches.Patch(color=c, label=s) for c, s in zip(colors, SHAPES)],
           loc="lower center", ncol=4)
fig.suptitle("Segmentation of test images: truth (middle) against prediction (bottom)")
plt.show()

# %% [markdown]
# ## What we reached
#
# The U-Net labels most pixels of shapes it has never seen with the right class; the box
# regressor's boxes overlap the truth far better than the best constant guess. The check asks
# for both: the U-Net's test mean IoU above the target, and the box IoU above the average-box
# baseline. Expect a mean IoU of about 0.84 in FAST mode and 0.90 in the full lesson (the
# recorded runs: 0.841 and 0.903).

# %% tags=["check"]
RESULT = {"metric": "unet_test_mean_iou", "value": round(float(test_miou), 4),
          "target": 0.6 if FAST else 0.85}
print(RESULT)
assert RESULT["value"] >= RESULT["target"], f"mean IoU {RESULT['value']} below {RESULT['target']}"
assert box_ious.mean() > baseline_iou + 0.1, f"box IoU {box_ious.mean():.3f} is not above chance"
