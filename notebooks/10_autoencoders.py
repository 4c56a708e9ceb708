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
# # 10 · Autoencoders
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/dl-course-kit/dl-course-kit/blob/main/notebooks/10_autoencoders.ipynb)
#
# An **autoencoder** learns to copy its input to its output through a narrow **bottleneck**. The
# copy itself is useless; what matters is the bottleneck: to get through it, the network has to
# find a compact description of the data, learned without any labels. We build dense and
# convolutional autoencoders, a **denoising** one, and a **variational autoencoder** (VAE) whose
# latent space we can sample to generate new images.
#
# ## Learning goals
#
# - build an encoder, a decoder and an autoencoder with the functional API, and read the
#   bottleneck as a learned **compression** (compression ratio, reconstruction error);
# - compare the autoencoder with **PCA** at the same code size, and say why only a non-linear
#   autoencoder can beat it;
# - train a **denoising** autoencoder: noisy images in, clean images out;
# - explain the VAE: probabilistic encoder, **reparameterisation trick**, loss = reconstruction +
#   **KL divergence**, and write its training loop with a custom `train_step`;
# - read the VAE's loss as the negative **ELBO**, a lower bound on the log-likelihood in nats,
#   and compare it with a baseline that ignores the code;
# - plot a 2-D latent space by class and decode a grid of latent points.

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
from sklearn.decomposition import PCA

IN_COLAB = "google.colab" in sys.modules
print(f"Python {sys.version.split()[0]} | TensorFlow {tf.__version__} | Keras {keras.__version__}"
      f" | backend {keras.backend.backend()} | Colab: {IN_COLAB}")
keras.utils.set_random_seed(42)  # seeds Python, NumPy and TensorFlow at once

# %% [markdown]
# ## Parameters
#
# `FAST = True` (tests, live demos) trains every model for a few epochs on a few thousand images;
# the default is the full lesson.

# %% tags=["parameters"]
FAST = False  # True: small data, short training (tests, live demos)
N_TRAIN = 60_000  # training images
EPOCHS = 10  # epochs for the dense and the convolutional autoencoder
DENOISE_EPOCHS = 10  # epochs for the denoising autoencoder
VAE_EPOCHS = 20
CODE_SIZE = 32  # bottleneck width of the dense and convolutional autoencoders
NOISE_STD = 0.3  # standard deviation of the noise for the denoising autoencoder

# %%
if FAST:
    N_TRAIN, EPOCHS, DENOISE_EPOCHS, VAE_EPOCHS = 8_000, 6, 2, 2
print(f"FAST={FAST}: {EPOCHS} epochs per autoencoder ({DENOISE_EPOCHS} for the denoiser, "
      f"{VAE_EPOCHS} for the VAE) on {N_TRAIN} images")

# %% [markdown]
# ## 1. Data
#
# Fashion-MNIST, pixels scaled to $[0, 1]$. The labels are **not** used for training: they only
# colour the latent-space plot at the end.

# %%
(x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
x_train = x_train[:N_TRAIN, :, :, None].astype("float32") / 255.0
y_train = y_train[:N_TRAIN]
x_test = x_test[:2_000, :, :, None].astype("float32") / 255.0
y_test = y_test[:2_000]
baseline_mse = float(np.mean((x_test - x_train.mean(axis=0)) ** 2))
print(f"train {x_train.shape} | test {x_test.shape} | MSE of always predicting the mean image "
      f"{baseline_mse:.4f}")


def show_rows(rows, labels, title, n=8):
    """One row of images per entry of `rows`, the label on each panel."""
    fig, axes = plt.subplots(len(rows), n, figsize=(1.3 * n, 1.45 * len(rows)))
    for r, (images, label) in enumerate(zip(rows, labels)):
        for c in range(n):
            axes[r, c].imshow(np.asarray(images[c]).reshape(28, 28), cmap="gray_r", vmin=0, vmax=1)
            axes[r, c].set_title(label, fontsize=8)
            axes[r, c].axis("off")
    fig.suptitle(title)
    plt.tight_layout()
    plt.show()


# %% [markdown]
# ## 2. A dense autoencoder: compression learned from data
#
# The **encoder** $f$ maps an image $x \in \mathbb{R}^{784}$ to a code $z = f(x) \in
# \mathbb{R}^{32}$; the **decoder** $g$ maps the code back to an image $\hat x = g(z)$. Both are
# trained together to minimise the reconstruction error
# $\frac{1}{784}\lVert x - g(f(x)) \rVert^2$. The code has 784 / 32 ≈ 24 times fewer numbers than
# the image: the **compression ratio**. A linear autoencoder with the squared error learns the
# same subspace as PCA; the non-linear layers let it do better.

# %%
def dense_autoencoder(code_size=CODE_SIZE):
    encoder = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        keras.layers.Flatten(),
        keras.layers.Dense(256, activation="relu"),
        keras.layers.Dense(code_size, name="code"),
    ], name="dense_encoder")
    decoder = keras.Sequential([
        keras.Input(shape=(code_size,)),
        keras.layers.Dense(256, activation="relu"),
        keras.layers.Dense(784, activation="sigmoid"),  # pixels in [0, 1]
        keras.layers.Reshape((28, 28, 1)),
    ], name="dense_decoder")
    inputs = keras.Input(shape=(28, 28, 1))
    return encoder, decoder, keras.Model(inputs, decoder(encoder(inputs)), name="dense_ae")


dense_enc, dense_dec, dense_ae = dense_autoencoder()
dense_ae.compile(optimizer="adam", loss="mse")
dense_fit = dense_ae.fit(x_train, x_train, epochs=EPOCHS, batch_size=64,
                         validation_data=(x_test, x_test), verbose=2)
dense_mse = dense_ae.evaluate(x_test, x_test, verbose=0)
print(f"compression ratio {784 / CODE_SIZE:.1f}x | test MSE {dense_mse:.4f} "
      f"(mean-image baseline {baseline_mse:.4f})")

# %% [markdown]
# ## 3. A convolutional autoencoder
#
# Convolutions suit images better: the encoder downsamples with strided convolutions
# (28 → 14 → 7 pixels), the decoder upsamples with **transposed convolutions**, the mirror
# operation. The bottleneck is again a dense code of `CODE_SIZE` numbers, so the two
# autoencoders compress equally and can be compared fairly.

# %%
def conv_encoder(code_size, name="conv_encoder"):
    inputs = keras.Input(shape=(28, 28, 1))
    x = keras.layers.Conv2D(32, 3, strides=2, padding="same", activation="relu")(inputs)  # 14 x 14
    x = keras.layers.Conv2D(64, 3, strides=2, padding="same", activation="relu")(x)  # 7 x 7
    x = keras.layers.Flatten()(x)
    return keras.Model(inputs, keras.layers.Dense(code_size)(x), name=name)


def conv_decoder(code_size, name="conv_decoder"):
    inputs = keras.Input(shape=(code_size,))
    x = keras.layers.Dense(7 * 7 * 64, activation="relu")(inputs)
    x = keras.layers.Reshape((7, 7, 64))(x)
    x = keras.layers.Conv2DTranspose(64, 3, strides=2, padding="same", activation="relu")(x)
    x = keras.layers.Conv2DTranspose(32, 3, strides=2, padding="same", activation="relu")(x)
    outputs = keras.layers.Conv2D(1, 3, padding="same", activation="sigmoid")(x)
    return keras.Model(inputs, outputs, name=name)


def conv_autoencoder(code_size=CODE_SIZE, name="conv_ae"):
    encoder, decoder = conv_encoder(code_size), conv_decoder(code_size)
    inputs = keras.Input(shape=(28, 28, 1))
    model = keras.Model(inputs, decoder(encoder(inputs)), name=name)
    model.compile(optimizer="adam", loss="mse")
    return model


conv_ae = conv_autoencoder()
initial_mse = conv_ae.evaluate(x_test, x_test, verbose=0)
conv_fit = conv_ae.fit(x_train, x_train, epochs=EPOCHS, batch_size=64,
                       validation_data=(x_test, x_test), verbose=2)
conv_mse = conv_ae.evaluate(x_test, x_test, verbose=0)
print(f"test MSE: untrained {initial_mse:.4f} -> dense AE {dense_mse:.4f}, conv AE {conv_mse:.4f}")

# %% [markdown]
# ### 3.1 The baseline to beat: PCA with the same code size
#
# A low test MSE means little on its own. The question that matters is whether the network found
# something a classical method would not. The classical method here is **principal component
# analysis** (PCA). It keeps the `CODE_SIZE` directions along which the training images vary
# most, and codes an image by its coordinates along them: $z = W^\top (x - \bar x)$. It decodes
# by going back, $\hat x = \bar x + W z$, where the columns of $W$ are the top principal
# directions. Among all *linear* encoders and decoders with a code of this size, PCA has the
# smallest squared reconstruction error on the training set (the Eckart-Young theorem). So the
# comparison is fair: same data, same code size, same error measure. Only the non-linearity
# differs.
#
# It also tells us what the autoencoder can gain. A **linear** autoencoder trained with the
# squared error can at best find the same subspace as PCA (Baldi & Hornik, 1989): the
# encoder's and decoder's weights can differ from PCA's, but the reconstructions cannot be
# better. Everything the network gains over PCA comes from the ReLUs. The images lie near a
# curved surface (a *manifold*) in the 784-dimensional pixel space, and a non-linear decoder can
# follow the bends that a flat subspace has to cut across. `sklearn.decomposition.PCA` fits
# on the flattened training images, and `inverse_transform` decodes.

# %%
pca = PCA(n_components=CODE_SIZE, svd_solver="randomized", random_state=0)
pca.fit(x_train.reshape(len(x_train), -1))
pca_test = pca.inverse_transform(pca.transform(x_test.reshape(len(x_test), -1)))
pca_test = np.clip(pca_test, 0, 1).reshape(x_test.shape)  # pixels live in [0, 1], like the AE's
pca_mse = float(np.mean((pca_test - x_test) ** 2))
print(f"{CODE_SIZE} principal components keep {pca.explained_variance_ratio_.sum():.1%} of the "
      f"pixel variance")
print(f"test MSE with a {CODE_SIZE}-number code: PCA {pca_mse:.4f} | dense AE {dense_mse:.4f} | "
      f"conv AE {conv_mse:.4f} (conv AE / PCA = {conv_mse / pca_mse:.2f})")

# %%
fig, ax = plt.subplots(figsize=(6, 3.5))
for name, fit in (("dense AE", dense_fit), ("convolutional AE", conv_fit)):
    ax.plot(range(1, EPOCHS + 1), fit.history["val_loss"], marker="o", label=name)
ax.axhline(pca_mse, color="C3", ls=":", label=f"PCA, {CODE_SIZE} components")
ax.axhline(baseline_mse, color="k", ls="--", label="mean image")
ax.set(title=f"Reconstruction error with a {CODE_SIZE}-number code", xlabel="epoch",
       ylabel="test MSE per pixel", yscale="log")
ax.legend()
plt.show()

show_rows([x_test, pca_test, dense_ae.predict(x_test[:8], verbose=0),
           conv_ae.predict(x_test[:8], verbose=0)],
          ["original", "PCA", "dense AE", "conv AE"],
          f"Reconstructions through a {CODE_SIZE}-number bottleneck ({784 / CODE_SIZE:.0f}x smaller)")

# %% [markdown]
# Read the figures together. PCA's reconstructions have the right overall shape but soft edges
# and faint "ghosts" of other garments (look around the trousers). Its images are sums of 32
# fixed patterns plus the mean image, and a sharp outline that sits in a slightly different
# place in each image is not one of them. PCA is a closed-form solution, so it is one horizontal
# line on the curve plot: it cannot improve with training. The convolutional autoencoder starts
# above that line and falls through it (in FAST mode after about 4 of its 6 short epochs; in the
# full lesson within the first epoch), then keeps falling. The dense autoencoder is non-linear too, but it
# knows nothing about which pixels are neighbours, so it spends its weights learning what the
# convolution gets for free, and it learns more slowly: in FAST mode it is still slightly worse
# than PCA (recorded: 0.0151 against 0.0143), while in the full lesson it ends well below
# (0.0090 against 0.0142), though still above the convolutional one (0.0070). Its reconstructions also show a
# speckled texture that neither PCA nor the convolutions produce.
#
# All three are blurry, though. With the squared error, when the code cannot tell between two
# sharp details, the best guess is their average. Fine texture (the print on a T-shirt, the
# stitching of a bag) is what a 32-number bottleneck drops first. A bigger code or a different
# loss would keep more of it; a sharper *guess* is what the GANs of notebook 11 trade for.
#
# ### Exercise 1 (concept) — when can an autoencoder not beat PCA?
#
# You change `dense_autoencoder` in **one** way and retrain it with the squared error and the
# same 32-number code. After which change can the trained model no longer reconstruct better
# than PCA, however long you train it (up to training noise)?
#
# - **a)** double the width of the hidden layers (256 → 512 units);
# - **b)** remove every activation function, so that every layer is linear;
# - **c)** replace the sigmoid of the output layer by a linear output;
# - **d)** train for 100 epochs instead of 10.
#
# Assign the letter to `LINEAR_AE_ANSWER`, e.g. `LINEAR_AE_ANSWER = "a"`.

# %% nbgrader={"grade": false, "grade_id": "concept_linear_ae", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
LINEAR_AE_ANSWER = "b"
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "concept_linear_ae_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
assert LINEAR_AE_ANSWER in ("a", "b", "c", "d"), "answer with one letter: a, b, c or d"
### BEGIN HIDDEN TESTS
assert LINEAR_AE_ANSWER == "b", "a composition of linear maps is linear: PCA is the best linear code"
### END HIDDEN TESTS

# %% [markdown]
# ## 4. A denoising autoencoder
#
# Feed a **corrupted** image $\tilde x = \mathrm{clip}(x + \epsilon, 0, 1)$ with
# $\epsilon \sim \mathcal{N}(0, \sigma^2)$ and ask for the **clean** image $x$. The network cannot
# copy its input any more; it has to learn what clothes look like to remove what does not fit.
# Only the training pairs change; the architecture is the same.

# %%
noise_rng = np.random.default_rng(0)
x_train_noisy = np.clip(x_train + noise_rng.normal(0, NOISE_STD, x_train.shape), 0, 1).astype("float32")
x_test_noisy = np.clip(x_test + noise_rng.normal(0, NOISE_STD, x_test.shape), 0, 1).astype("float32")

denoiser = conv_autoencoder(name="denoiser")
denoiser.fit(x_train_noisy, x_train, epochs=DENOISE_EPOCHS, batch_size=64, verbose=2)
denoised = denoiser.predict(x_test_noisy, verbose=0)
noisy_mse = float(np.mean((x_test_noisy - x_test) ** 2))
denoised_mse = float(np.mean((denoised - x_test) ** 2))
print(f"MSE to the clean image: noisy input {noisy_mse:.4f} -> denoised {denoised_mse:.4f}")
show_rows([x_test_noisy, denoised, x_test], ["noisy input", "denoised", "clean target"],
          f"Denoising autoencoder (noise σ = {NOISE_STD})")

# %% [markdown]
# ## 5. The variational autoencoder
#
# A plain autoencoder's code space has holes: decode a point between two codes and you may get
# garbage, so it cannot **generate**. The VAE (Kingma & Welling, 2014) makes the code space
# smooth by making the encoder **probabilistic**. For an image $x$ it outputs a Gaussian
# $q(z \mid x) = \mathcal{N}\big(\mu(x), \operatorname{diag}\sigma^2(x)\big)$ (in practice
# $\mu$ and $\log \sigma^2$, which can be any real number), a code $z$ is **sampled** from it and
# decoded. The loss has two terms:
#
# $$\mathcal{L}(x) = \underbrace{-\,\mathbb{E}_{z \sim q(z\mid x)}\big[\log p(x \mid z)\big]}_{
# \text{reconstruction}} + \underbrace{D_{\mathrm{KL}}\big(q(z \mid x)\,\Vert\,\mathcal{N}(0,
# I)\big)}_{\text{regulariser}}.$$
#
# With pixels in $[0, 1]$ the reconstruction term is the binary cross-entropy summed over the 784
# pixels. The KL divergence between two Gaussians has a closed form, summed over the $d$ latent
# dimensions:
#
# $$D_{\mathrm{KL}} = -\frac{1}{2}\sum_{j=1}^{d}\big(1 + \log\sigma_j^2 - \mu_j^2 - \sigma_j^2\big).$$
#
# It pulls every $q(z \mid x)$ towards the standard normal, so the codes of all images overlap
# and fill the space without holes: decoding any $z \sim \mathcal{N}(0, I)$ gives a plausible
# image.
#
# **Reparameterisation trick.** We cannot backpropagate through "draw a random sample". Instead
# we draw noise that does not depend on the parameters, $\epsilon \sim \mathcal{N}(0, I)$, and
# write the sample as a differentiable function of $\mu$ and $\sigma$:
# $z = \mu + \sigma \odot \epsilon = \mu + \exp\big(\tfrac{1}{2}\log\sigma^2\big) \odot \epsilon$.
#
# ### Exercise 2 — the reparameterisation trick
#
# Write `reparameterize(z_mean, z_log_var, eps)` returning $z = \mu + \exp(\frac12 \log\sigma^2)
# \odot \epsilon$, using TensorFlow operations so that gradients flow to `z_mean` and
# `z_log_var`.

# %% nbgrader={"grade": false, "grade_id": "ex1_reparameterize", "locked": false, "schema_version": 3, "solution": true, "task": false}
def reparameterize(z_mean, z_log_var, eps):
    """A sample of N(z_mean, exp(z_log_var)) written as a differentiable function of both."""
    ### BEGIN SOLUTION
    return z_mean + tf.exp(0.5 * z_log_var) * eps
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex1_reparameterize_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
_z = reparameterize(tf.constant([[1.0, -2.0]]), tf.constant([[0.0, np.log(4.0)]]),
                    tf.constant([[0.5, 0.5]]))
np.testing.assert_allclose(np.asarray(_z), [[1.5, -1.0]], rtol=1e-5)
### BEGIN HIDDEN TESTS
_mu, _lv = tf.Variable([[0.3, -0.7]]), tf.Variable([[0.2, -1.0]])
_eps = tf.constant([[1.5, -0.5]])
with tf.GradientTape() as _tape:
    _out = tf.reduce_sum(reparameterize(_mu, _lv, _eps))
_g_mu, _g_lv = _tape.gradient(_out, [_mu, _lv])
assert _g_mu is not None and _g_lv is not None, "gradients must reach z_mean and z_log_var"
np.testing.assert_allclose(_g_mu.numpy(), [[1.0, 1.0]], rtol=1e-5)
np.testing.assert_allclose(_g_lv.numpy(), 0.5 * np.exp(0.5 * _lv.numpy()) * _eps.numpy(), rtol=1e-5)
_samples = reparameterize(tf.fill((20_000, 1), 2.0), tf.fill((20_000, 1), float(np.log(9.0))),
                          tf.random.stateless_normal((20_000, 1), seed=(1, 2)))
np.testing.assert_allclose([np.mean(_samples), np.std(_samples)], [2.0, 3.0], atol=0.08)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 3 — the KL term
#
# Write `kl_divergence(z_mean, z_log_var)` for tensors of shape `(batch, d)`: return the KL
# divergence of each example, shape `(batch,)`, with the closed form above (sum over the latent
# dimensions).

# %% nbgrader={"grade": false, "grade_id": "ex2_kl_divergence", "locked": false, "schema_version": 3, "solution": true, "task": false}
def kl_divergence(z_mean, z_log_var):
    """KL(N(z_mean, exp(z_log_var)) || N(0, I)) per example, shape (batch,)."""
    ### BEGIN SOLUTION
    return -0.5 * tf.reduce_sum(1.0 + z_log_var - tf.square(z_mean) - tf.exp(z_log_var), axis=-1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex2_kl_divergence_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
_kl = kl_divergence(tf.zeros((3, 2)), tf.zeros((3, 2)))
assert tuple(_kl.shape) == (3,), f"one KL per example: expected shape (3,), got {tuple(_kl.shape)}"
np.testing.assert_allclose(np.asarray(_kl), 0.0, atol=1e-7)  # q is already N(0, I)
np.testing.assert_allclose(np.asarray(kl_divergence(tf.constant([[2.0]]), tf.constant([[0.0]]))),
                           [2.0], rtol=1e-6)
### BEGIN HIDDEN TESTS
# KL(N(mu, s^2) || N(0, 1)) = -log s + (s^2 + mu^2) / 2 - 1/2, summed over dimensions
_m = np.array([[0.5, -1.0, 0.0], [2.0, 0.1, -0.3]], "float32")
_s = np.array([[0.5, 1.5, 1.0], [0.2, 1.0, 3.0]], "float32")
_expected = np.sum(-np.log(_s) + (_s**2 + _m**2) / 2 - 0.5, axis=1)
np.testing.assert_allclose(np.asarray(kl_divergence(tf.constant(_m), tf.constant(2 * np.log(_s)))),
                           _expected, rtol=1e-5)
### END HIDDEN TESTS

# %% [markdown]
# ### The VAE as a Keras model with a custom `train_step`
#
# `fit` calls `train_step` once per batch. Overriding it lets us compute a loss that is not a
# simple function of `(y_true, y_pred)`: here it needs the encoder's $\mu$ and $\log\sigma^2$ as
# well. With the TensorFlow backend, the step records the forward pass on a `tf.GradientTape`,
# takes the gradients and hands them to `self.optimizer.apply_gradients`. The running averages
# shown by `fit` are `keras.metrics.Mean` trackers, listed by the `metrics` property so that Keras
# resets them at each epoch. The latent space has $d = 2$ dimensions so that we can draw it.

# %%
LATENT_DIM = 2


def vae_encoder(latent_dim=LATENT_DIM):
    inputs = keras.Input(shape=(28, 28, 1))
    x = keras.layers.Conv2D(32, 3, strides=2, padding="same", activation="relu")(inputs)
    x = keras.layers.Conv2D(64, 3, strides=2, padding="same", activation="relu")(x)
    x = keras.layers.Dense(64, activation="relu")(keras.layers.Flatten()(x))
    z_mean = keras.layers.Dense(latent_dim, name="z_mean")(x)
    z_log_var = keras.layers.Dense(latent_dim, name="z_log_var")(x)
    return keras.Model(inputs, [z_mean, z_log_var], name="vae_encoder")


class VAE(keras.Model):
    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder, self.decoder = encoder, decoder
        self.seed_generator = keras.random.SeedGenerator(42)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.kl_tracker = keras.metrics.Mean(name="kl")

    @property
    def metrics(self):
        return [self.loss_tracker, self.reconstruction_tracker, self.kl_tracker]

    def call(self, x, training=False):  # deterministic reconstruction: decode the mean
        z_mean, _ = self.encoder(x, training=training)
        return self.decoder(z_mean, training=training)

    def compute_losses(self, x, training):
        z_mean, z_log_var = self.encoder(x, training=training)
        eps = keras.random.normal(tf.shape(z_mean), seed=self.seed_generator)
        reconstruction = self.decoder(reparameterize(z_mean, z_log_var, eps), training=training)
        pixel_bce = keras.losses.binary_crossentropy(x, reconstruction)  # (batch, 28, 28)
        reconstruction_loss = tf.reduce_mean(tf.reduce_sum(pixel_bce, axis=(1, 2)))
        kl_loss = tf.reduce_mean(kl_divergence(z_mean, z_log_var))
        return reconstruction_loss + kl_loss, reconstruction_loss, kl_loss

    def update_trackers(self, losses):
        for tracker, value in zip(self.metrics, losses):
            tracker.update_state(value)
        return {m.name: m.result() for m in self.metrics}

    def train_step(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            losses = self.compute_losses(x, training=True)
        grads = tape.gradient(losses[0], self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        return self.update_trackers(losses)

    def test_step(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        return self.update_trackers(self.compute_losses(x, training=False))


vae = VAE(vae_encoder(), conv_decoder(LATENT_DIM, name="vae_decoder"))
vae.compile(optimizer=keras.optimizers.Adam(1e-3))
vae_fit = vae.fit(x_train, epochs=VAE_EPOCHS, batch_size=64, validation_data=(x_test,), verbose=2)

# %%
fig, ax = plt.subplots(figsize=(6, 3.5))
epochs = range(1, VAE_EPOCHS + 1)
ax.plot(epochs, vae_fit.history["reconstruction"], marker="o", label="reconstruction (BCE)")
ax.plot(epochs, vae_fit.history["kl"], marker="o", label="KL divergence")
ax.plot(epochs, vae_fit.history["val_loss"], marker="o", ls="--", label="total (validation)")
ax.set(title="VAE training: the two terms of the loss", xlabel="epoch", ylabel="nats per image")
ax.legend()
plt.show()

# %% [markdown]
# The KL term *grows* while the reconstruction improves: the encoder spends "information" (moves
# the $\mu$'s apart, shrinks the $\sigma$'s) only where it pays off in reconstruction. That
# trade-off is the whole VAE.
#
# ### 5.1 The ELBO: what the VAE's loss measures, and a baseline for it
#
# The loss is not an arbitrary sum of two penalties. For any encoder $q$, the log-likelihood of
# an image under the model $p(x) = \int p(x \mid z)\, p(z)\, dz$ is bounded from below:
#
# $$\log p(x) \;\ge\; \mathrm{ELBO}(x) = \mathbb{E}_{z \sim q(z\mid x)}\big[\log p(x \mid z)\big]
# - D_{\mathrm{KL}}\big(q(z \mid x)\,\Vert\,p(z)\big),$$
#
# the **evidence lower bound**. The gap is exactly $D_{\mathrm{KL}}\big(q(z\mid x)\,\Vert\,
# p(z \mid x)\big)$, how far the encoder is from the true posterior. Our loss is the ELBO with
# the sign flipped, $\mathcal{L} = -\mathrm{ELBO}$, estimated with one sample of $z$ per image.
# Minimising it raises a bound on how probable the model finds the data, which is why a VAE is a
# proper generative model and a plain autoencoder is not.
#
# **Units and sign.** The ELBO is a log-probability, measured in **nats per image** (natural
# logarithm, summed over the 784 pixels and averaged over images). Probabilities are at most 1,
# so log-probabilities are at most 0: the ELBO is **negative**, and **higher (closer to 0) is
# better**. With grey-level targets the Bernoulli "likelihood" cannot reach 0 even for a perfect
# reconstruction, since the binary cross-entropy of a pixel of grey level $x$ is at least the
# entropy $-x\log x - (1-x)\log(1-x)$. So the numbers are only comparable between models
# scored the same way on the same images. They are not the log-likelihood of a continuous
# density (Loaiza-Ganem & Cunningham, 2019, discuss this).
#
# **A baseline.** The simplest VAE ignores its code: the encoder outputs $q(z \mid x) =
# \mathcal{N}(0, I)$ for every image, so the KL term is 0. The decoder then outputs the same
# image for every input. The best such image, for the cross-entropy, is the **mean training
# image**, pixel by pixel. Its ELBO is the negative cross-entropy of every test image against
# the mean image. A VAE that collapses to this (*posterior collapse*, a real failure mode) has
# learned nothing from the latent code. Ours must do clearly better.

# %%
def bernoulli_nats(x, p):
    """-log p(x | p) of each image, in nats, for pixel 'probabilities' p: the summed BCE."""
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return -np.sum(x * np.log(p) + (1 - x) * np.log(1 - p), axis=(1, 2, 3))


vae_test = vae.evaluate(x_test, verbose=0, return_dict=True)  # one z sample per test image
vae_elbo = -float(vae_test["loss"])
mean_image_elbo = -float(np.mean(bernoulli_nats(x_test, x_train.mean(axis=0, keepdims=True))))
print(f"test ELBO (nats per image, higher is better): VAE {vae_elbo:.1f} "
      f"(reconstruction {-float(vae_test['reconstruction']):.1f}, KL {float(vae_test['kl']):.1f}) | "
      f"code-ignoring baseline (mean image, KL = 0) {mean_image_elbo:.1f}")

# %% [markdown]
# ## 6. The latent space
#
# Each test image is placed at its code $\mu(x)$. No label was used in training, yet similar
# clothes land next to each other. Because the KL term packs the codes around the origin, any
# point of the plane decodes to a plausible image: the grid on the right walks the latent space
# from $-2.5$ to $2.5$ in each direction.

# %%
test_codes, _ = vae.encoder.predict(x_test, verbose=0)
grid_n = 12
grid_values = np.linspace(-2.5, 2.5, grid_n)
grid_z = np.array([[zx, zy] for zy in grid_values[::-1] for zx in grid_values], "float32")
decoded = vae.decoder.predict(grid_z, verbose=0).reshape(grid_n, grid_n, 28, 28)
canvas = decoded.transpose(0, 2, 1, 3).reshape(grid_n * 28, grid_n * 28)

fig, axes = plt.subplots(1, 2, figsize=(13, 6))
scatter = axes[0].scatter(test_codes[:, 0], test_codes[:, 1], c=y_test, cmap="tab10", s=6)
handles = [plt.Line2D([], [], marker="o", ls="", color=scatter.cmap(scatter.norm(c)), label=name)
           for c, name in enumerate(CLASS_NAMES)]
axes[0].legend(handles=handles, fontsize=8, loc="best")
axes[0].set(title="Test images at their latent code μ(x), coloured by class", xlabel="$z_1$",
            ylabel="$z_2$")
axes[1].imshow(canvas, cmap="gray_r", extent=(-2.5 - 0.2, 2.5 + 0.2, -2.5 - 0.2, 2.5 + 0.2))
axes[1].set(title="Decoder output on a grid of latent points", xlabel="$z_1$", ylabel="$z_2$")
plt.tight_layout()
plt.show()

new_images = vae.decoder.predict(keras.random.normal((8, LATENT_DIM), seed=7), verbose=0)
show_rows([x_test, vae.predict(x_test[:8], verbose=0), new_images],
          ["original", "VAE reconstr.", "sampled z"],
          "VAE: reconstructions (2 numbers per image!) and new images from z ~ N(0, I)")

# %% [markdown]
# ## Common pitfalls
#
# - **No baseline.** A test MSE of 0.01 sounds small, and it says nothing until it is set next to
#   the mean image (which ignores the input) and PCA (the best linear code of the same size). An
#   autoencoder that does not beat PCA has learned nothing a matrix factorisation would not
#   give you in a second. Report the ratio, as the check below does.
# - **Output range and loss that do not match the data.** A sigmoid output cannot produce
#   pixels in $[0, 255]$. A linear output fed to `binary_crossentropy`, which expects
#   probabilities, is silently clipped into $(0, 1)$, and the gradient is zero wherever it was
#   clipped. Scale the data to $[0, 1]$ for a sigmoid, and look at a few reconstructions before
#   trusting a loss value.
# - **A bottleneck that is not one.** With a code as wide as the input (or a long training on few
#   images), an autoencoder can learn something close to the identity. The training loss is then
#   tiny and the code useless. Watch the *test* error, and keep the code small or add noise (the
#   denoising autoencoder) or another penalty.
# - **Averaging where the ELBO sums.** `keras.losses.binary_crossentropy` returns the *mean* over
#   the last axis. If the reconstruction term is averaged over the 784 pixels while the KL term
#   is summed over the latent dimensions, the KL weighs 784 times too much, the encoder gives up
#   on the code (the KL term goes to 0) and every reconstruction becomes the same blurry average:
#   *posterior collapse*. Sum both terms per image, as `compute_losses` does, and watch the KL
#   curve: a KL near 0 for every image is the symptom.
# - **Sampling outside the graph.** Drawing $z$ with NumPy, or with a random call whose result
#   is not written as $\mu + \sigma\epsilon$, cuts the gradient to the encoder: the loss still
#   falls (the decoder learns), but $\mu$ and $\sigma$ never do. Check that the encoder's
#   gradients are not `None`, as the hidden test of Exercise 2 does.
# - **Predicting $\sigma$ instead of $\log\sigma^2$.** A `Dense` layer outputs any real number;
#   a negative standard deviation breaks the KL term. Predict $\log\sigma^2$ and exponentiate.
# - **Comparing ELBOs that are not comparable.** An ELBO in nats per image depends on the
#   likelihood (Bernoulli, Gaussian with which variance), on the pixel scaling and on the number
#   of pixels. Compare models only under the same scoring, on the same test images, and never
#   compare an ELBO with an MSE.
# - **Denoising with the wrong target.** The input is the noisy image, the *target* the clean one.
#   Fitting noisy to noisy trains a plain autoencoder that reproduces the noise.
#
# ## What we reached
#
# The check compares the convolutional autoencoder with PCA at the **same code size**
# (`CODE_SIZE` numbers per image) on the same test images: the value is the ratio of their test
# MSEs, so below 1 means the network wins. We ask for a ratio of at most 0.9 in FAST mode
# (recorded: 0.84, PCA 0.0143 and conv AE 0.0120) and at most 0.7 in the full lesson
# (recorded: 0.49, PCA 0.0142 and conv AE 0.0070): the full lesson's network halves PCA's error
# with the same 32 numbers per image. A second check, after the result is printed, asks the VAE
# for a test ELBO (nats per image, negative, higher is better) of at least −300 in FAST mode and
# −275 in the full lesson. The code-ignoring baseline (the mean image, KL = 0) scores about −384,
# so both targets demand that the 2-number code carries real information. Recorded in FAST mode: −289 nats
# per image (reconstruction term −283, KL 6), after only two epochs.
#
# Recorded by `benchmarks/notebooks.py` for `conv_ae_over_pca_test_mse`: FAST mode 0.843 (target ≤ 0.9, 94 s, 2026-11-23); full lesson 0.489 (target ≤ 0.7, 1337 s, 2026-11-23).
#
# ## Further reading
#
# - Baldi & Hornik (1989), *Neural networks and principal component analysis: learning from
#   examples without local minima*, Neural Networks 2(1): the linear autoencoder and PCA.
# - Hinton & Salakhutdinov (2006), *Reducing the dimensionality of data with neural networks*,
#   Science 313: deep autoencoders that beat PCA at the same code size.
# - Vincent, Larochelle, Bengio & Manzagol (2008), *Extracting and composing robust features with
#   denoising autoencoders*, ICML.
# - Kingma & Welling (2014), *Auto-Encoding Variational Bayes*, ICLR (arXiv 2013); and Rezende,
#   Mohamed & Wierstra (2014), *Stochastic backpropagation and approximate inference in deep
#   generative models*, ICML: the VAE and the reparameterisation trick.
# - Loaiza-Ganem & Cunningham (2019), *The continuous Bernoulli: fixing a pervasive error in
#   variational autoencoders*, NeurIPS: why a Bernoulli likelihood on grey levels is not a density.
# - Goodfellow, Bengio & Courville (2016), *Deep Learning*, MIT Press, chapter 14 (autoencoders)
#   and chapter 20.10.3 (variational autoencoders).
# - Chollet (2021), *Deep Learning with Python*, 2nd edition, chapter 12 (generative deep
#   learning: the VAE with a custom `train_step`).

# %% tags=["check"]
ae_over_pca = conv_mse / pca_mse
RESULT = {"metric": "conv_ae_over_pca_test_mse", "value": round(float(ae_over_pca), 3),
          "target": 0.9 if FAST else 0.7, "higher_is_better": False}
print(RESULT)
assert RESULT["value"] <= RESULT["target"], (
    f"conv AE test MSE {conv_mse:.4f} vs PCA {pca_mse:.4f}: ratio {RESULT['value']} above "
    f"{RESULT['target']}")
elbo_target = -300 if FAST else -275  # nats per image; the ELBO is negative, higher is better
print(f"VAE test ELBO {vae_elbo:.1f} nats per image (target >= {elbo_target}, "
      f"code-ignoring baseline {mean_image_elbo:.1f})")
assert mean_image_elbo < elbo_target <= vae_elbo, (
    f"VAE test ELBO {vae_elbo:.1f} below {elbo_target} (baseline {mean_image_elbo:.1f})")
