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
# # 11 · Generative adversarial networks
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/dl-course-kit/dl-course-kit/blob/main/notebooks/11_gans.ipynb)
#
# A VAE generates by decoding random codes, but it is trained to *reconstruct*, so its images are
# blurry. A **GAN** (Goodfellow et al., 2014) is trained to *fool a critic*: a **generator** turns
# random noise into images, a **discriminator** tries to tell them from real ones, and each
# network improves against the other. This notebook writes that two-player training loop in
# Keras 3 and trains a DCGAN (deep convolutional GAN).
#
# ## Learning goals
#
# - state the GAN **minimax objective** and the non-saturating generator loss used in practice;
# - write the alternating training loop with a custom `train_step` (`tf.GradientTape`, two
#   optimizers, `keras.metrics.Mean` trackers);
# - build a DCGAN generator (transposed convolutions) and discriminator (strided convolutions);
# - follow training with sample grids and loss curves, and recognise the failure modes: **mode
#   collapse**, a discriminator that wins too easily, oscillation;
# - judge the samples with numbers: a classifier trained here on real clothes scores their
#   **fidelity** (a Fréchet distance between feature statistics, the idea behind FID) and their
#   **diversity** (how many classes the generator covers).

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
from scipy import linalg

IN_COLAB = "google.colab" in sys.modules
print(f"Python {sys.version.split()[0]} | TensorFlow {tf.__version__} | Keras {keras.__version__}"
      f" | backend {keras.backend.backend()} | Colab: {IN_COLAB}")
keras.utils.set_random_seed(42)  # seeds Python, NumPy and TensorFlow at once

# %% [markdown]
# ## Parameters
#
# GANs are expensive: the full lesson trains a DCGAN on all 60,000 Fashion-MNIST images for 10
# epochs (about 10 minutes on a laptop CPU, 1-2 on a Colab GPU). `FAST = True` (tests, live
# demos) trains the same network on the same dataset, restricted to four classes that look very
# different (trousers, dresses, sneakers, bags), for 600 steps with a higher learning rate: in
# under a minute the samples become recognisable clothes.

# %% tags=["parameters"]
FAST = False  # True: four classes, short training (tests, live demos)
CLASSES = None  # Fashion-MNIST class ids to learn; None = all ten
EPOCHS = 10
STEPS_PER_EPOCH = None  # None: one pass over the training images per epoch
LATENT_DIM = 64  # size of the noise vector z
BATCH_SIZE = 64
LEARNING_RATE = 2e-4  # Adam, for both players (the DCGAN default)
N_CLASSIFIER = 60_000  # real images used to train the judging classifier
CLASSIFIER_EPOCHS = 3
N_EVAL = 2_000  # generated and real images compared by the judge

# %%
if FAST:
    CLASSES, EPOCHS, STEPS_PER_EPOCH, LEARNING_RATE = [1, 3, 7, 8], 6, 100, 5e-4
    N_CLASSIFIER, CLASSIFIER_EPOCHS = 12_000, 2
CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
CLASSES = list(range(10)) if CLASSES is None else list(CLASSES)
print(f"FAST={FAST}: DCGAN on Fashion-MNIST classes {[CLASS_NAMES[c] for c in CLASSES]}, "
      f"{EPOCHS} epochs, learning rate {LEARNING_RATE}, latent size {LATENT_DIM}")

# %% [markdown]
# ## 1. Data
#
# Fashion-MNIST with the real loader (in Colab it downloads the files once; offline the course
# provisions them in Keras' cache). GAN generators usually end with a `tanh`, so we scale the
# pixels to $[-1, 1]$. We keep the labels, although the GAN never sees them: they train the
# classifier that will judge the generator in section 5, and they tell us which test images to
# compare the samples with (the classes the GAN was trained on).

# %%
(x_train_all, y_train_all), (x_test_all, y_test_all) = keras.datasets.fashion_mnist.load_data()
to_unit_range = lambda x: (x[..., None] / 127.5 - 1.0).astype("float32")  # noqa: E731  [0, 255] -> [-1, 1]
in_classes = np.isin(y_train_all, CLASSES)
real_images = to_unit_range(x_train_all[in_classes])
test_in_classes = np.isin(y_test_all, CLASSES)
real_test = to_unit_range(x_test_all[test_in_classes])[:N_EVAL]
IMAGE_SIZE = real_images.shape[1]
print(f"{len(real_images)} real training images of {IMAGE_SIZE}x{IMAGE_SIZE} pixels, "
      f"{len(real_test)} held-out test images for the evaluation")


def show_grid(batch, title, rows=1, cols=8, row_titles=None):
    """Images in [-1, 1] as a grid of panels."""
    fig, axes = plt.subplots(rows, cols, figsize=(1.2 * cols, 1.35 * rows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.imshow(np.asarray(batch[i])[:, :, 0], cmap="gray_r", vmin=-1, vmax=1)
        ax.set_title(row_titles[i // cols] if row_titles else f"#{i}", fontsize=8)
        ax.axis("off")
    fig.suptitle(title)
    plt.tight_layout()
    plt.show()


show_grid(real_images[:16], "Real training images", rows=2)

# %% [markdown]
# ## 2. The two-player game
#
# The discriminator $D(x) \in (0, 1)$ is the probability that $x$ is real; the generator $G(z)$
# maps noise $z \sim \mathcal{N}(0, I)$ to an image. They play the **minimax** game
#
# $$\min_G \max_D \; V(D, G) = \mathbb{E}_{x \sim p_\text{data}}\big[\log D(x)\big] +
# \mathbb{E}_{z}\big[\log\big(1 - D(G(z))\big)\big].$$
#
# For a fixed $G$ the best discriminator is $D^*(x) = \frac{p_\text{data}(x)}{p_\text{data}(x) +
# p_G(x)}$, and then the generator minimises (up to constants) the Jensen-Shannon divergence
# between the real distribution and its own: at the equilibrium $p_G = p_\text{data}$ and
# $D = \frac12$ everywhere.
#
# In practice we alternate one gradient step for each player:
#
# - **discriminator**: the binary cross-entropy with label 1 for real images and 0 for fakes,
#   $L_D = -\log D(x) - \log(1 - D(G(z)))$;
# - **generator**: early on $D(G(z)) \approx 0$ and $\log(1 - D(G(z)))$ is flat, so its
#   gradient vanishes. The **non-saturating** loss $L_G = -\log D(G(z))$ has the same fixed point
#   but strong gradients exactly when the generator is losing.
#
# The networks output **logits** $\ell$ (so $D = \sigma(\ell)$) and we use the numerically stable
# `from_logits=True` cross-entropy.
#
# ### Exercise 1 — the discriminator's loss
#
# Write `discriminator_loss(real_logits, fake_logits)`: the mean binary cross-entropy of the real
# logits against label 1 plus the mean binary cross-entropy of the fake logits against label 0.
# Use `keras.losses.binary_crossentropy(..., from_logits=True)` or the formula
# $-\log\sigma(\ell)$ and $-\log(1-\sigma(\ell))$.

# %% nbgrader={"grade": false, "grade_id": "ex1_discriminator_loss", "locked": false, "schema_version": 3, "solution": true, "task": false}
def discriminator_loss(real_logits, fake_logits):
    """mean BCE(1, real_logits) + mean BCE(0, fake_logits), both from logits."""
    ### BEGIN SOLUTION
    real_loss = keras.losses.binary_crossentropy(tf.ones_like(real_logits), real_logits,
                                                 from_logits=True)
    fake_loss = keras.losses.binary_crossentropy(tf.zeros_like(fake_logits), fake_logits,
                                                 from_logits=True)
    return tf.reduce_mean(real_loss) + tf.reduce_mean(fake_loss)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex1_discriminator_loss_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
_zero = tf.zeros((4, 1))
np.testing.assert_allclose(float(discriminator_loss(_zero, _zero)), 2 * np.log(2), rtol=1e-5)
### BEGIN HIDDEN TESTS
_r, _f = np.array([[2.0], [-1.0], [0.5]], "float32"), np.array([[-3.0], [1.0]], "float32")
_sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
_expected = -np.mean(np.log(_sig(_r))) - np.mean(np.log(1 - _sig(_f)))
np.testing.assert_allclose(float(discriminator_loss(tf.constant(_r), tf.constant(_f))), _expected,
                           rtol=1e-4)
# a confident, correct discriminator has a small loss; a fooled one a large loss
assert float(discriminator_loss(tf.fill((2, 1), 8.0), tf.fill((2, 1), -8.0))) < 0.01
assert float(discriminator_loss(tf.fill((2, 1), -8.0), tf.fill((2, 1), 8.0))) > 10
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 2 — the generator's (non-saturating) loss
#
# Write `generator_loss(fake_logits)`: the mean binary cross-entropy of the discriminator's
# logits on fakes against label **1** ("make the discriminator call them real"), i.e. the mean of
# $-\log \sigma(\ell)$.

# %% nbgrader={"grade": false, "grade_id": "ex2_generator_loss", "locked": false, "schema_version": 3, "solution": true, "task": false}
def generator_loss(fake_logits):
    """mean BCE(1, fake_logits) from logits: the non-saturating generator loss."""
    ### BEGIN SOLUTION
    return tf.reduce_mean(keras.losses.binary_crossentropy(tf.ones_like(fake_logits), fake_logits,
                                                           from_logits=True))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex2_generator_loss_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
np.testing.assert_allclose(float(generator_loss(tf.zeros((3, 1)))), np.log(2), rtol=1e-5)
### BEGIN HIDDEN TESTS
_l = np.array([[-4.0], [0.0], [3.0]], "float32")
np.testing.assert_allclose(float(generator_loss(tf.constant(_l))),
                           np.mean(np.log1p(np.exp(-_l))), rtol=1e-4)
_v = tf.Variable([[-6.0]])
with tf.GradientTape() as _tape:
    _loss = generator_loss(_v)
assert float(_tape.gradient(_loss, _v)[0, 0]) < -0.9, "non-saturating: strong gradient when losing"
### END HIDDEN TESTS

# %% [markdown]
# ## 3. A DCGAN
#
# The DCGAN recipe (Radford, Metz & Chintala, 2016) fixed the architecture choices that made
# convolutional GANs train reliably. The generator projects $z$ to a small stack of feature maps
# and **upsamples** it step by step, each step followed by batch normalisation and ReLU, ending in
# `tanh`; the discriminator **downsamples** with strided convolutions and LeakyReLU (no pooling, so
# it learns its own downsampling), ending in one logit. Here the generator grows a 7×7 map into a
# 14×14 and then a 28×28 image.
#
# DCGAN upsampled with strided *transposed* convolutions. We use the variant Odena, Dumoulin &
# Olah (2016) recommend instead: a nearest-neighbour `UpSampling2D` followed by an ordinary 3×3
# convolution. A transposed convolution with stride 2 and kernel 4 adds up overlapping kernel
# copies unevenly, which prints a faint **checkerboard** on the images; resize-then-convolve
# treats every output pixel alike. In our trials it gave visibly cleaner clothes after the same
# number of steps, and it is cheaper on a CPU.
#
# Both networks are deliberately small, so that the lesson runs on a CPU. Most of the generator's
# weights sit in its first `Dense` layer, which turns 64 numbers into 3,136; the convolutions that
# draw the picture are light. The discriminator has fewer weights but an easier job: telling
# blurry fakes from real clothes is simpler than drawing clothes. If one player is far stronger
# than the other, the game is over before the generator has learned anything (section 6).

# %%
def make_generator(latent_dim=LATENT_DIM, size=IMAGE_SIZE):
    start = size // 4
    return keras.Sequential([
        keras.Input(shape=(latent_dim,)),
        keras.layers.Dense(start * start * 64, use_bias=False),
        keras.layers.BatchNormalization(),
        keras.layers.ReLU(),
        keras.layers.Reshape((start, start, 64)),
        keras.layers.UpSampling2D(),  # 7x7 -> 14x14
        keras.layers.Conv2D(32, 3, padding="same", use_bias=False),
        keras.layers.BatchNormalization(),
        keras.layers.ReLU(),
        keras.layers.UpSampling2D(),  # 14x14 -> 28x28
        keras.layers.Conv2D(16, 3, padding="same", use_bias=False),
        keras.layers.BatchNormalization(),
        keras.layers.ReLU(),
        keras.layers.Conv2D(1, 3, padding="same", activation="tanh"),
    ], name="generator")


def make_discriminator(size=IMAGE_SIZE):
    return keras.Sequential([
        keras.Input(shape=(size, size, 1)),
        keras.layers.Conv2D(32, 4, strides=2, padding="same"),
        keras.layers.LeakyReLU(0.2),
        keras.layers.Conv2D(64, 4, strides=2, padding="same"),
        keras.layers.LeakyReLU(0.2),
        keras.layers.Flatten(),
        keras.layers.Dropout(0.3),
        keras.layers.Dense(1),  # a logit: D(x) = sigmoid(logit)
    ], name="discriminator")


# %% [markdown]
# ### The training loop as a `train_step`
#
# `fit` feeds batches of real images to `train_step`, which plays one round: a step of the
# discriminator on real and fake images, then a step of the generator through the (fixed)
# discriminator. Each player has its own optimizer, so `compile` takes two. We also track the
# discriminator's **accuracy** on the round's real and fake images: near 0.5 means the game is
# balanced; stuck at 1.0 means the discriminator has won and the generator gets no useful signal.
# Adam with $\beta_1 = 0.5$ and a learning rate of $2 \cdot 10^{-4}$ are the DCGAN defaults. The
# lower $\beta_1$ (Adam's default is 0.9) makes the momentum forget faster, which matters when the
# loss surface keeps moving because the other player keeps changing. FAST mode raises the learning
# rate to $5 \cdot 10^{-4}$ to get somewhere in 600 steps; over thousands of steps that setting
# is more likely to oscillate, so the full lesson keeps the default.

# %%
class GAN(keras.Model):
    def __init__(self, generator, discriminator, latent_dim=LATENT_DIM, **kwargs):
        super().__init__(**kwargs)
        self.generator, self.discriminator, self.latent_dim = generator, discriminator, latent_dim
        self.seed_generator = keras.random.SeedGenerator(42)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.d_accuracy_tracker = keras.metrics.Mean(name="d_accuracy")

    def compile(self, d_optimizer, g_optimizer):
        super().compile()
        self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker, self.d_accuracy_tracker]

    def sample(self, n, training=False):
        z = keras.random.normal((n, self.latent_dim), seed=self.seed_generator)
        return self.generator(z, training=training)

    def train_step(self, real):
        batch = tf.shape(real)[0]
        # 1) discriminator: real -> 1, fake -> 0 (the generator is not updated here)
        with tf.GradientTape() as tape:
            fake = self.sample(batch, training=True)
            real_logits = self.discriminator(real, training=True)
            fake_logits = self.discriminator(fake, training=True)
            d_loss = discriminator_loss(real_logits, fake_logits)
        d_weights = self.discriminator.trainable_weights
        self.d_optimizer.apply_gradients(zip(tape.gradient(d_loss, d_weights), d_weights))
        # 2) generator: make the discriminator say "real" (the discriminator is not updated)
        with tf.GradientTape() as tape:
            fake_logits_g = self.discriminator(self.sample(batch, training=True), training=True)
            g_loss = generator_loss(fake_logits_g)
        g_weights = self.generator.trainable_weights
        self.g_optimizer.apply_gradients(zip(tape.gradient(g_loss, g_weights), g_weights))

        correct = tf.concat([tf.cast(real_logits > 0, "float32"),
                             tf.cast(fake_logits < 0, "float32")], axis=0)
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        self.d_accuracy_tracker.update_state(tf.reduce_mean(correct))
        return {m.name: m.result() for m in self.metrics}


# %% [markdown]
# A callback keeps the generator's output for the **same** 8 noise vectors at a few epochs, so
# we can watch the samples take shape.

# %%
class SampleHistory(keras.callbacks.Callback):
    def __init__(self, z, epochs_to_keep):
        super().__init__()
        self.z, self.epochs_to_keep, self.samples = z, set(epochs_to_keep), {}

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 in self.epochs_to_keep:
            self.samples[epoch + 1] = self.model.generator(self.z, training=False).numpy()


fixed_z = keras.random.normal((8, LATENT_DIM), seed=3)
snapshots = sorted({1, max(2, EPOCHS // 4), max(3, EPOCHS // 2), EPOCHS})
history_callback = SampleHistory(fixed_z, snapshots)

gan = GAN(make_generator(), make_discriminator())
untrained_generator = keras.models.clone_model(gan.generator)  # a baseline for section 5
untrained_generator.set_weights(gan.generator.get_weights())
gan.compile(d_optimizer=keras.optimizers.Adam(LEARNING_RATE, beta_1=0.5),
            g_optimizer=keras.optimizers.Adam(LEARNING_RATE, beta_1=0.5))
dataset = (tf.data.Dataset.from_tensor_slices(real_images).shuffle(len(real_images), seed=0)
           .batch(BATCH_SIZE, drop_remainder=True).repeat().prefetch(2))
steps = STEPS_PER_EPOCH or len(real_images) // BATCH_SIZE
gan_fit = gan.fit(dataset, epochs=EPOCHS, steps_per_epoch=steps, callbacks=[history_callback],
                  verbose=2 if EPOCHS <= 20 else 0)
final = {k: round(float(v[-1]), 3) for k, v in gan_fit.history.items()}
print("last epoch:", final)

# %% [markdown]
# ## 4. Watching the game
#
# GAN losses do not go down the way a classifier's loss does: each player's loss depends on the
# other player, who keeps getting better. What we want is a **stalemate**: neither loss
# exploding, the discriminator's accuracy hovering a little above chance (0.5), well below 1.
#
# A useful landmark: if the discriminator could only guess, $D = \frac12$ on every image, its loss
# would be $2 \log 2 \approx 1.39$ and the generator's $\log 2 \approx 0.69$. In a healthy run
# both curves settle near those values after a short first phase in which the discriminator wins
# easily (the early samples are grey blobs). Do not read a *falling* generator loss as progress:
# it may only mean that the discriminator got worse. The pictures below, the same eight noise
# vectors decoded at several epochs, say more than the curves: first blobs with the right
# silhouette, then outlines, then details such as the gap between trouser legs, the sole of a
# sneaker, a bag's handle.

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
epochs = range(1, EPOCHS + 1)
axes[0].plot(epochs, gan_fit.history["d_loss"], label="discriminator")
axes[0].plot(epochs, gan_fit.history["g_loss"], label="generator")
axes[0].set(title="GAN losses (a game, not a descent)", xlabel="epoch", ylabel="cross-entropy")
axes[0].legend()
axes[1].plot(epochs, gan_fit.history["d_accuracy"], color="C2")
axes[1].axhspan(0.3, 0.95, color="C2", alpha=0.1, label="healthy band")
axes[1].axhline(0.5, color="k", ls="--", lw=1, label="chance")
axes[1].set(title="Discriminator accuracy on real + fake", xlabel="epoch", ylabel="accuracy",
            ylim=(0, 1.05))
axes[1].legend()
plt.tight_layout()
plt.show()

rows = [history_callback.samples[e] for e in snapshots]
show_grid(np.concatenate(rows), "The same 8 noise vectors decoded during training", rows=len(rows),
          row_titles=[f"epoch {e}" for e in snapshots])

# %% [markdown]
# ## 5. Judging the samples: fidelity and diversity
#
# Looking at pictures is essential but it is not a measurement: two people disagree, and nobody
# looks at ten thousand samples. A generator should produce images that are **faithful** (each one
# looks like a real item of clothing) and **diverse** (together they cover all the kinds of items
# in the data, in the right proportions). Neither property alone is enough: a generator that
# memorised one perfect sneaker is faithful and useless; white noise is as diverse as it gets.
#
# The standard answer for natural images is the **Fréchet Inception Distance** (FID, Heusel et
# al., 2017). Take a network trained to *recognise* images (Inception-v3 on ImageNet), feed it
# many real and many generated images, and keep the activations of its last hidden layer: each
# image becomes a feature vector that describes *what is in it* rather than its raw pixels. Fit a
# Gaussian to the real features (mean $\mu_r$, covariance $\Sigma_r$) and one to the generated
# features ($\mu_g$, $\Sigma_g$), and measure the Fréchet (2-Wasserstein) distance between the two
# Gaussians:
#
# $$d^2 = \lVert \mu_r - \mu_g \rVert^2 + \mathrm{tr}\big(\Sigma_r + \Sigma_g - 2(\Sigma_r \Sigma_g)^{1/2}\big).$$
#
# The first term compares the average content: it grows when samples look wrong. The second
# compares the spread: it grows when samples are too alike (mode collapse shrinks $\Sigma_g$) or
# too scattered. Lower is better, and two independent sets of real images score almost 0.
#
# Inception-v3 knows nothing about 28×28 grey clothes and is not available offline here, so we
# train our **own judge**: a small classifier on real Fashion-MNIST, and use its 64-unit
# penultimate layer as the feature space. The distance we get is "FID-like", not comparable with
# published FID numbers, which are all computed with the same Inception network. The classifier
# also gives two easier numbers: how **confident** it is on the samples, and which **classes** the
# samples fall into.

# %%
keras.utils.set_random_seed(0)
judge = keras.Sequential([
    keras.Input(shape=(IMAGE_SIZE, IMAGE_SIZE, 1)),
    keras.layers.Conv2D(32, 3, activation="relu"),
    keras.layers.MaxPooling2D(),
    keras.layers.Conv2D(64, 3, activation="relu"),
    keras.layers.MaxPooling2D(),
    keras.layers.Flatten(),
    keras.layers.Dense(64, activation="relu", name="features"),
    keras.layers.Dense(10, activation="softmax"),
], name="judge")
judge.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
judge.fit(to_unit_range(x_train_all[:N_CLASSIFIER]), y_train_all[:N_CLASSIFIER],
          epochs=CLASSIFIER_EPOCHS, batch_size=128, verbose=0)
judge_accuracy = judge.evaluate(to_unit_range(x_test_all), y_test_all, verbose=0)[1]
print(f"judge: test accuracy {judge_accuracy:.3f} on all ten classes")
feature_model = keras.Model(judge.inputs, judge.get_layer("features").output)


def feature_stats(images):
    """Mean and covariance of the judge's penultimate-layer features."""
    f = feature_model.predict(images, batch_size=500, verbose=0).astype("float64")
    return f.mean(axis=0), np.cov(f, rowvar=False)


def frechet_distance(stats_a, stats_b):
    """Squared Fréchet distance between two Gaussians (mean, covariance)."""
    (mu_a, cov_a), (mu_b, cov_b) = stats_a, stats_b
    covmean = linalg.sqrtm(cov_a @ cov_b).real  # tiny imaginary parts are round-off
    return float(np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a + cov_b - 2 * covmean))


def judge_report(images):
    """Fréchet distance to held-out real images, mean confidence, share of each class."""
    probs = judge.predict(images, batch_size=500, verbose=0)
    shares = np.bincount(probs.argmax(axis=1), minlength=10) / len(images)
    return {"frechet": frechet_distance(feature_stats(images), real_stats),
            "confidence": float(probs.max(axis=1).mean()), "shares": shares}


real_stats = feature_stats(real_test)
rng = np.random.default_rng(0)
z_eval = keras.random.normal((N_EVAL, LATENT_DIM), seed=7)
generated = gan.generator.predict(z_eval, batch_size=500, verbose=0)
candidates = {
    "real (training set)": real_images[rng.choice(len(real_images), N_EVAL, replace=False)],
    "trained generator": generated,
    "collapsed (8 samples repeated)": np.repeat(generated[:8], N_EVAL // 8, axis=0),
    "uniform noise": rng.uniform(-1, 1, size=real_test.shape).astype("float32"),
    "untrained generator": untrained_generator.predict(z_eval, batch_size=500, verbose=0),
}
reports = {name: judge_report(images) for name, images in candidates.items()}
for name, r in reports.items():
    print(f"{name:>31}: Fréchet distance {r['frechet']:8.2f} | mean confidence {r['confidence']:.3f}"
          f" | classes with >= 2% of the samples: {int(np.sum(r['shares'] >= 0.02))}")

# %% [markdown]
# Read the table from the bottom up. The **untrained generator** (the same network before the
# game started) draws nearly uniform grey fields: the judge's features for them are far from any
# real item, and the distance is in the hundreds. **Uniform noise** is closer, but still in the
# hundreds. The **trained generator** is more than an order of magnitude closer than both, while
# two independent sets of **real** images sit below 1: that is the floor, the estimation noise of
# 2,000 samples. The gap between the generator and that floor is what better training (or a
# better architecture) would still close.
#
# The **collapsed** row is the lesson of the table. Its images are real samples of our own
# generator, each just as faithful, but there are only eight distinct ones. The mean term of the
# distance barely changes; the covariance term explodes, because the feature cloud of eight points
# is far too narrow. A metric that only asked "does each image look real?" would rate this
# generator as good as the trained one.
#
# The **confidence** column shows why "the classifier is sure" is a weak test of fidelity. The
# collapsed generator gets about as much confidence as the trained one (often more: its eight
# images are typical ones), so confidence cannot see missing diversity. And uniform noise, which
# looks like nothing, still gets a mean confidence around 0.4, four times the 0.1 of a classifier
# that honestly does not know: classifiers are trained to pick a class, not to say "none of
# these". Notebook 15 turns this weakness into an attack. We print confidence because it is
# intuitive, but we check the distance.
#
# The figure below shows the distances on a logarithmic scale, and how the judge sorts the
# generated samples into classes next to the real test images of the training classes.

# %%
real_shares = judge_report(real_test)["shares"]
fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
names = list(reports)
axes[0].barh(names, [reports[n]["frechet"] for n in names],
             color=["C0", "C1", "C7", "C3", "C3"])
axes[0].set_xscale("log")
axes[0].invert_yaxis()
axes[0].set(title="Fréchet distance to held-out real images (lower is better)",
            xlabel="squared Fréchet distance in the judge's feature space (log scale)",
            ylabel="image source")
width = 0.4
axes[1].bar(np.arange(10) - width / 2, real_shares, width, label="real test images")
axes[1].bar(np.arange(10) + width / 2, reports["trained generator"]["shares"], width,
            label="generated")
axes[1].set_xticks(range(10), CLASS_NAMES, rotation=45, ha="right", fontsize=8)
axes[1].set(title="What the judge sees in the samples", xlabel="class predicted by the judge",
            ylabel="share of the images")
axes[1].legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# On the right, a good generator's bars follow the real ones: every class the GAN was trained on
# receives a fair share of the samples. A class with no generated samples is a **dropped mode**;
# one class with far too many is the start of a collapse. Some samples land on classes that were
# not in the training set (a blurry sneaker is easily called a sandal): the judge sees the
# imperfections that the Fréchet distance also counts.
#
# ### Exercise 3 (conceptual) — the optimal discriminator
#
# Section 2 stated that, for a fixed generator, the best discriminator is
# $D^*(x) = \frac{p_\text{data}(x)}{p_\text{data}(x) + p_G(x)}$. Answer with numbers, no code:
#
# - `D_STAR`: at an image $x$ where the real density is $p_\text{data}(x) = 0.3$ and the
#   generator's density is $p_G(x) = 0.1$, what probability of "real" does $D^*$ give?
# - `LOSS_AT_EQUILIBRIUM`: when the generator is perfect, $p_G = p_\text{data}$ everywhere, what
#   is the discriminator's loss $L_D = -\log D(x) - \log(1 - D(G(z)))$ of the best discriminator
#   (natural logarithm, rounded to two decimals)? Compare with the loss curve of section 4.

# %% nbgrader={"grade": false, "grade_id": "concept_optimal_discriminator", "locked": false, "schema_version": 3, "solution": true, "task": false}
D_STAR = None  # a probability between 0 and 1
LOSS_AT_EQUILIBRIUM = None  # a positive number
### BEGIN SOLUTION
D_STAR = 0.75  # 0.3 / (0.3 + 0.1)
LOSS_AT_EQUILIBRIUM = 1.39  # D = 1/2 on real and fake: -log(1/2) - log(1/2) = 2 log 2
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "concept_optimal_discriminator_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
assert isinstance(D_STAR, (int, float)) and 0 <= D_STAR <= 1, "D_STAR is a probability"
assert isinstance(LOSS_AT_EQUILIBRIUM, (int, float)), "LOSS_AT_EQUILIBRIUM is a number"
### BEGIN HIDDEN TESTS
assert abs(D_STAR - 0.75) < 0.01, "D*(x) = p_data / (p_data + p_G)"
assert abs(LOSS_AT_EQUILIBRIUM - 2 * np.log(2)) < 0.01, "D = 1/2 everywhere: 2 log 2"
### END HIDDEN TESTS

# %% [markdown]
# ## 6. Failure modes
#
# - **Mode collapse.** The generator only has to fool the *current* discriminator, so it can win
#   by producing one convincing image (or a few) for every $z$. The discriminator then learns to
#   reject that image, the generator jumps to another one, and so on. Symptom: samples that look
#   fine one by one but are all alike. The Fréchet distance and the class shares above catch it;
#   below, a cruder pixel-level check: the per-pixel standard deviation across many samples,
#   compared with the same number on real images (a fully collapsed generator scores 0).
# - **Discriminator too strong.** If $D$ separates real from fake perfectly (accuracy 1.0),
#   $D(G(z)) \approx 0$ and the generator's gradient carries little information: training stalls.
#   Remedies: fewer discriminator steps or a lower learning rate, dropout or noise in $D$, label
#   smoothing (real label 0.9).
# - **Oscillation.** Simultaneous gradient steps on a min-max problem need not converge: the two
#   players can circle around the equilibrium, and the sample quality goes up and down from epoch
#   to epoch. The practical answer is to keep snapshots of the generator and pick the one with the
#   best Fréchet distance, rather than trusting the last epoch.
#
# Later variants attack these problems: Wasserstein GANs with gradient penalty, spectral
# normalisation, and, more recently, diffusion models, which replaced GANs for most image
# generation.

# %%
samples = generated[:256]
sample_std = float(samples.std(axis=0).mean())  # per-pixel std across samples, then averaged
real_std = float(real_test[:256].std(axis=0).mean())
print(f"per-pixel std across 256 samples: generated {sample_std:.3f} | real {real_std:.3f} "
      f"| fully collapsed 0.000")
print(f"pixel value range of samples: [{samples.min():.2f}, {samples.max():.2f}]")

fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
axes[0].hist(real_test[:256].ravel(), bins=30, alpha=0.6, density=True, label="real")
axes[0].hist(samples.ravel(), bins=30, alpha=0.6, density=True, label="generated")
axes[0].set(title="Pixel values: real against generated", xlabel="pixel value (scaled to [-1, 1])",
            ylabel="density")
axes[0].legend()
axes[1].bar(["real", "generated", "collapsed"], [real_std, sample_std, 0.0], color=["C0", "C1", "C7"])
axes[1].set(title="Diversity: per-pixel std across samples", xlabel="image source",
            ylabel="mean per-pixel std")
plt.tight_layout()
plt.show()
show_grid(samples[:16], "New samples from random noise", rows=2)

# %% [markdown]
# The pixel histogram is a quick sanity check of a different kind: most real Fashion-MNIST pixels
# are background (exactly $-1$ here), and the rest spread over the whole range, slightly more of
# them towards the dark end. A generator whose `tanh` output sits in the middle of the range is
# still drawing grey fog; one whose values pile up at exactly $\pm 1$ has saturated its `tanh`,
# which often comes with a discriminator that wins. A good generator reproduces both the spike of
# background and the spread of fabric tones.
#
# ## Common pitfalls
#
# - **Forgetting to scale the data to the generator's range.** A `tanh` generator produces values
#   in $[-1, 1]$; if the real images are in $[0, 1]$ (or $[0, 255]$) the discriminator wins by
#   checking the pixel range alone. Check `real_images.min(), real_images.max()` against the
#   samples' range.
# - **Updating the wrong network.** Each tape must apply gradients only to its own player's
#   weights. Applying the generator's loss to the discriminator (or to both) makes the
#   discriminator help the generator and the game degenerates. Symptom: the discriminator's accuracy
#   drops to 0.5 at once while the samples stay blobs.
# - **The saturating generator loss.** Minimising $\log(1 - D(G(z)))$, as written in the minimax
#   objective, gives almost no gradient at the start, when the discriminator easily rejects the
#   fakes. Use the non-saturating $-\log D(G(z))$ of exercise 2.
# - **Sigmoid twice.** If the discriminator ends in a sigmoid *and* the loss uses
#   `from_logits=True`, the loss sees probabilities as logits; training still runs but badly.
#   Output logits and let the loss apply the sigmoid.
# - **Reading the losses as a score.** The losses measure the state of the game, not the quality of
#   the samples: a generator loss that falls can mean a weaker discriminator. Judge the samples
#   (pictures, Fréchet distance, class coverage), and keep snapshots.
# - **Sampling in training mode.** Batch normalisation behaves differently in training and
#   inference. Generate the images you show or evaluate with `training=False` (as `predict` does).
# - **Comparing "FID" numbers across feature extractors or sample sizes.** The distance depends
#   on the network that computes the features and is biased upwards with few samples. Ours is only
#   meaningful relative to the baselines computed with the same judge and the same 2,000 images.
#
# ## What we reached
#
# The check asks for fidelity *and* diversity, against baselines. The metric is the Fréchet
# distance of the trained generator's samples, divided by that of uniform noise measured with the
# same judge: the ratio removes the scale of the judge's feature space, which differs between
# FAST and the full lesson. Noise scores 1 by definition, the untrained generator about 2-3, and a
# trained generator must get below 0.2 in FAST mode and below 0.1 after the full lesson. Behind it,
# two secondary checks: the per-pixel standard deviation of the samples is at least 40 % of the
# real images' (no collapse), and the judge finds at least three quarters of the training classes
# among the samples, each with at least a quarter of its fair share.
#
# In our FAST run the generator's Fréchet distance was 5.9 against 130 for noise and 319 for the
# untrained generator (ratio 0.045, far below the target of 0.2), with all four classes covered
# and a diversity ratio of 0.93. The collapsed control (42) shows that the check fails when the
# generator loses its diversity, even though each of its images is as good as the others. The
# full lesson's recorded run (all ten classes, 10 epochs) reached a ratio of 0.024 against its
# target of 0.1.
#
# Recorded by `benchmarks/notebooks.py` for `frechet_distance_over_noise_baseline`: FAST mode 0.045 (target ≤ 0.2, 105 s, 2026-11-23); full lesson 0.0237 (target ≤ 0.1, 2062 s, 2026-11-23).
#
# ## Further reading
#
# - Goodfellow et al. (2014), *Generative Adversarial Nets*, NeurIPS: the minimax game, the optimal
#   discriminator and the non-saturating loss.
# - Radford, Metz & Chintala (2016), *Unsupervised Representation Learning with Deep Convolutional
#   Generative Adversarial Networks*, ICLR: the DCGAN architecture guidelines.
# - Odena, Dumoulin & Olah (2016), *Deconvolution and Checkerboard Artifacts*, Distill: why we
#   upsample and then convolve.
# - Heusel et al. (2017), *GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash
#   Equilibrium*, NeurIPS: the Fréchet Inception Distance.
# - Salimans et al. (2016), *Improved Techniques for Training GANs*, NeurIPS: mode collapse,
#   feature matching, one-sided label smoothing and the Inception score.
# - Arjovsky, Chintala & Bottou (2017), *Wasserstein GAN*, ICML; Gulrajani et al. (2017),
#   *Improved Training of Wasserstein GANs*, NeurIPS: a loss with useful gradients everywhere.
# - Goodfellow, Bengio & Courville (2016), *Deep Learning*, MIT Press, chapter 20 (deep
#   generative models), section 20.10.4 on generative adversarial networks.

# %% tags=["check"]
d_accuracy = float(gan_fit.history["d_accuracy"][-1])
fidelity = reports["trained generator"]["frechet"] / reports["uniform noise"]["frechet"]
RESULT = {"metric": "frechet_distance_over_noise_baseline", "value": round(fidelity, 4),
          "target": 0.2 if FAST else 0.1, "higher_is_better": False}
print(RESULT)
shares = reports["trained generator"]["shares"][CLASSES]
covered = int(np.sum(shares >= 0.25 / len(CLASSES)))
print(f"untrained generator: {reports['untrained generator']['frechet'] / reports['uniform noise']['frechet']:.2f}"
      f" x noise | diversity ratio {sample_std / real_std:.3f} | classes covered {covered}/{len(CLASSES)}"
      f" | discriminator accuracy in the last epoch {d_accuracy:.3f}")
assert RESULT["value"] <= RESULT["target"], f"Fréchet ratio {RESULT['value']} above {RESULT['target']}"
assert sample_std / real_std >= 0.4, f"diversity ratio {sample_std / real_std:.3f} below 0.4: collapse?"
assert covered >= np.ceil(0.75 * len(CLASSES)), f"only {covered} of {len(CLASSES)} classes generated"
