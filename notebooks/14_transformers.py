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
# # 14 · Transformers
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/dl-course-kit/dl-course-kit/blob/main/notebooks/14_transformers.ipynb)
#
# Notebook 13 added attention to a recurrent network. The transformer ("Attention is all you
# need", 2017) drops the recurrence altogether: every position attends to every other position in
# one parallel step, and the order of the tokens enters only through **positional encodings**.
# This is the architecture behind BERT, GPT and most of today's language, vision and audio models.
#
# ## Learning goals
#
# - write **scaled dot-product attention** $\mathrm{softmax}(QK^\top/\sqrt{d})\,V$ from scratch and
#   reproduce `keras.layers.MultiHeadAttention` exactly with its own weights;
# - explain **multi-head** attention, **positional encodings**, and the **encoder block**
#   (residual connections, layer normalisation, feed-forward network);
# - show that a transformer solves an order-dependent task where a bag of embeddings cannot;
# - train a small **GPT-style** character model with a **causal mask** and sample text from it
#   at different **temperatures**.

# %% [markdown]
# ## Setup
#
# This cell works in Colab (where TensorFlow and Keras 3 are preinstalled) and locally. It prints
# the versions and fixes the random seeds so that two runs give the same numbers.

# %%
import importlib
import inspect
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
# `FAST = True` (tests, live demos) trains on less data for fewer steps. `USE_SHAKESPEARE`
# switches the GPT section to the Tiny Shakespeare corpus (1.1 MB, **downloaded**): on by default
# in Colab only. Offline, the corpus is the documentation shipped with Python itself.

# %% tags=["parameters"]
FAST = False  # True: small data, short training (tests, live demos)
N_SEQ = 10_000  # generated sequences for the order task (80 % training)
CLS_EPOCHS = 12  # epochs of the two classifiers
GPT_WINDOWS = 48_000  # training windows of CONTEXT characters per GPT epoch
GPT_EPOCHS = 4  # GPT epochs
CONTEXT = 64  # characters the GPT model sees
USE_SHAKESPEARE = IN_COLAB  # Tiny Shakespeare (downloads, Colab); False: Python docstrings, offline

# %%
if FAST:
    N_SEQ, CLS_EPOCHS, GPT_WINDOWS, GPT_EPOCHS = 3_000, 7, 2_400, 2
print(f"FAST={FAST}: {N_SEQ} sequences × {CLS_EPOCHS} epochs | GPT {GPT_WINDOWS} windows × "
      f"{GPT_EPOCHS} epochs | USE_SHAKESPEARE={USE_SHAKESPEARE}")

# %% [markdown]
# ## 1. Scaled dot-product attention
#
# Each token is turned into a **query** $q$, a **key** $k$ and a **value** $v$ by three learnt
# linear maps. Token $i$ scores every token $j$ with $q_i \cdot k_j$, turns the scores into
# weights with a softmax, and returns the weighted mean of the values. For all tokens at once,
# with $Q, K, V$ the stacked rows:
#
# $$\mathrm{Attention}(Q, K, V) = \mathrm{softmax}\!\left(\frac{QK^\top}{\sqrt{d}}\right) V .$$
#
# Why $\sqrt{d}$: if the components of $q$ and $k$ have variance 1, $q \cdot k$ has variance $d$;
# dividing by $\sqrt d$ keeps the scores near unit scale, so the softmax does not saturate and its
# gradients do not vanish. A **mask** sets some scores to $-\infty$ before the softmax, giving
# those positions weight 0 (used below to stop a language model from reading the future).
#
# ### Exercise 1 — attention from scratch
#
# Write `scaled_dot_product_attention(q, k, v, mask=None)` with TensorFlow ops for tensors of
# shape (..., Tq, d), (..., Tk, d), (..., Tk, dv). `mask`, if given, is boolean and broadcastable
# to (..., Tq, Tk), `True` where attention is **allowed**: give the other scores a large
# negative value (e.g. `-1e9`) before the softmax. Return `(output, weights)`.

# %% nbgrader={"grade": false, "grade_id": "ex1_attention", "locked": false, "schema_version": 3, "solution": true, "task": false}
def scaled_dot_product_attention(q, k, v, mask=None):
    """softmax(q k^T / sqrt(d)) v, and the attention weights."""
    q, k, v = (tf.convert_to_tensor(a, dtype=tf.float32) for a in (q, k, v))
    ### BEGIN SOLUTION
    d = tf.cast(tf.shape(q)[-1], tf.float32)
    scores = tf.matmul(q, k, transpose_b=True) / tf.sqrt(d)
    if mask is not None:
        scores = tf.where(tf.cast(mask, tf.bool), scores, -1e9)
    weights = tf.nn.softmax(scores, axis=-1)
    return tf.matmul(weights, v), weights
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex1_attention_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
_r = np.random.default_rng(0)
_q, _k, _v = _r.normal(size=(2, 3, 8)), _r.normal(size=(2, 5, 8)), _r.normal(size=(2, 5, 4))
_out, _w = scaled_dot_product_attention(_q, _k, _v)
assert tuple(_out.shape) == (2, 3, 4) and tuple(_w.shape) == (2, 3, 5)
np.testing.assert_allclose(np.sum(_w, axis=-1), 1.0, atol=1e-5)
### BEGIN HIDDEN TESTS
_s = _q @ _k.transpose(0, 2, 1) / np.sqrt(8)
_ref_w = np.exp(_s) / np.exp(_s).sum(-1, keepdims=True)
np.testing.assert_allclose(np.asarray(_w), _ref_w, atol=1e-5)  # the sqrt(d) scaling is there
np.testing.assert_allclose(np.asarray(_out), _ref_w @ _v, atol=1e-5)
_causal = np.tril(np.ones((5, 5), dtype=bool))
_, _wm = scaled_dot_product_attention(_k, _k, _v, mask=_causal)
np.testing.assert_allclose(np.triu(np.asarray(_wm), 1), 0.0, atol=1e-6)  # no look-ahead
np.testing.assert_allclose(np.asarray(_wm)[:, 0, 0], 1.0, atol=1e-6)
### END HIDDEN TESTS

# %% [markdown]
# ## 2. Multi-head attention, checked against Keras
#
# One attention looks at the sequence in one way. **Multi-head** attention runs $h$ attentions in
# parallel, each on its own learnt projections of size `key_dim`, concatenates their outputs and
# mixes them with a last linear map:
#
# $$\mathrm{head}_i = \mathrm{Attention}(XW_i^Q, XW_i^K, XW_i^V), \qquad
#   \mathrm{MHA}(X) = [\mathrm{head}_1, \dots, \mathrm{head}_h]\, W^O .$$
#
# One head can track "which noun is the subject", another "what came just before". Below we read
# the weights of a `keras.layers.MultiHeadAttention` layer through its public API: `get_weights()`
# returns the query, key, value and output projections in that order, each a kernel (of shape
# (d_model, heads, key_dim) for the first three) and a bias, as the weights' `path` names show.
# We recompute the layer's output with our function, and compare our attention weights with
# those the layer returns when called with `return_attention_scores=True`.

# %%
d_model, heads, key_dim = 16, 4, 8
x = np.random.default_rng(1).normal(size=(2, 6, d_model)).astype("float32")
mha = keras.layers.MultiHeadAttention(num_heads=heads, key_dim=key_dim)
# self-attention: queries, keys and values all come from x
keras_out, keras_weights = mha(x, x, return_attention_scores=True)
for weight in mha.weights:
    print(f"{weight.path:45s} {tuple(weight.shape)}")
wq, bq, wk, bk, wv, bv, wo, bo = mha.get_weights()  # the order printed above

q = tf.einsum("btd,dhk->bhtk", x, wq) + bq[:, None, :]  # (batch, heads, time, key_dim)
k = tf.einsum("btd,dhk->bhtk", x, wk) + bk[:, None, :]
v = tf.einsum("btd,dhk->bhtk", x, wv) + bv[:, None, :]
heads_out, our_weights = scaled_dot_product_attention(q, k, v)  # every head at once
our_out = tf.einsum("bhtk,hkd->btd", heads_out, wo) + bo
print(f"largest difference to Keras: output {np.max(np.abs(our_out - keras_out)):.2e}, "
      f"attention weights {np.max(np.abs(our_weights - keras_weights)):.2e}")
np.testing.assert_allclose(our_out, keras_out, atol=1e-5)
np.testing.assert_allclose(our_weights, keras_weights, atol=1e-5)  # (batch, heads, Tq, Tk)

# %% [markdown]
# ## 3. Positional encodings
#
# Attention is **permutation-equivariant**: shuffle the tokens and the outputs are shuffled the
# same way, nothing else changes. Order must be added to the input. The original transformer adds
# to each token embedding a vector of sines and cosines of its position $p$ at geometrically
# spaced frequencies:
#
# $$PE_{p,\,2i} = \sin\!\left(\frac{p}{10000^{2i/d}}\right), \qquad
#   PE_{p,\,2i+1} = \cos\!\left(\frac{p}{10000^{2i/d}}\right).$$
#
# Low dimensions oscillate fast, high ones slowly, like the digits of a counter; and
# $PE_{p+k}$ is a fixed linear function (a rotation) of $PE_p$, which makes relative positions
# easy to read. GPT-style models instead **learn** one embedding vector per position; the models
# below do that (`PositionalEmbedding`), and both work well.
#
# ### Exercise 2 — sinusoidal positional encoding
#
# Write `positional_encoding(length, depth)` returning a NumPy array of shape (length, depth)
# following the formula (even columns sine, odd columns cosine; `depth` is even).

# %% nbgrader={"grade": false, "grade_id": "ex2_positional_encoding", "locked": false, "schema_version": 3, "solution": true, "task": false}
def positional_encoding(length, depth):
    """Sinusoidal positional encodings, shape (length, depth)."""
    ### BEGIN SOLUTION
    positions = np.arange(length)[:, np.newaxis]
    i = np.arange(depth // 2)[np.newaxis, :]
    angles = positions / 10000 ** (2 * i / depth)
    pe = np.zeros((length, depth))
    pe[:, 0::2] = np.sin(angles)
    pe[:, 1::2] = np.cos(angles)
    return pe
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex2_positional_encoding_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
_pe = np.asarray(positional_encoding(50, 16))
assert _pe.shape == (50, 16)
np.testing.assert_allclose(_pe[0], np.tile([0.0, 1.0], 8), atol=1e-7)  # position 0: sin 0, cos 0
### BEGIN HIDDEN TESTS
np.testing.assert_allclose(_pe[:, 0], np.sin(np.arange(50)), atol=1e-6)
np.testing.assert_allclose(_pe[7, 5], np.cos(7 / 10000 ** (4 / 16)), atol=1e-6)
np.testing.assert_allclose(_pe[13, 14], np.sin(13 / 10000 ** (14 / 16)), atol=1e-6)
np.testing.assert_allclose(_pe[:, 0::2] ** 2 + _pe[:, 1::2] ** 2, 1.0, atol=1e-6)
### END HIDDEN TESTS

# %%
pe = positional_encoding(64, 64)
fig, axes = plt.subplots(1, 2, figsize=(11, 3.5))
image = axes[0].imshow(pe.T, cmap="RdBu", aspect="auto")
axes[0].set(title="Sinusoidal positional encodings", xlabel="position p", ylabel="dimension")
fig.colorbar(image, ax=axes[0])
for dim in [0, 6, 20]:
    axes[1].plot(pe[:, dim], label=f"dimension {dim}")
axes[1].set(title="Three dimensions: fast to slow", xlabel="position p", ylabel="encoding value")
axes[1].legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 4. The encoder block
#
# A transformer is a stack of identical blocks. Each block has two sub-layers, each wrapped in a
# **residual connection** and a **layer normalisation**:
#
# $$X' = \mathrm{LayerNorm}(X + \mathrm{MHA}(X)), \qquad
#   Y = \mathrm{LayerNorm}(X' + \mathrm{FFN}(X')), \qquad
#   \mathrm{FFN}(x) = W_2\,\mathrm{ReLU}(W_1 x + b_1) + b_2 .$$
#
# Attention *mixes information between positions*; the feed-forward network *processes each
# position on its own*. The residual path lets gradients flow through deep stacks (as in ResNets)
# and layer normalisation keeps each token vector at a stable scale. (GPT models normalise
# *before* each sub-layer, "pre-norm", which trains more stably; section 6 uses that variant.)

# %%
class PositionalEmbedding(keras.layers.Layer):
    """Token embedding plus a learnt embedding of the position."""

    def __init__(self, length, vocab_size, dim, **kwargs):
        super().__init__(**kwargs)
        self.tokens = keras.layers.Embedding(vocab_size, dim)
        self.positions = keras.layers.Embedding(length, dim)

    def call(self, ids):
        return self.tokens(ids) + self.positions(tf.range(tf.shape(ids)[-1]))


def encoder_block(x, heads=2, ff_dim=64):
    dim = x.shape[-1]
    attended = keras.layers.MultiHeadAttention(heads, dim // heads)(x, x)
    x = keras.layers.LayerNormalization()(x + attended)
    ff = keras.layers.Dense(ff_dim, activation="relu")(x)
    ff = keras.layers.Dense(dim)(ff)
    return keras.layers.LayerNormalization()(x + ff)


# %% [markdown]
# ## 5. A task where order matters
#
# Each sequence has 20 tokens from a vocabulary of 20: random filler tokens (ids 3-19), plus
# exactly one token **A** (id 1) and one token **B** (id 2) at random positions. The label is
# 1 if A comes before B. Every sequence contains the same kind of tokens, so a
# **bag of embeddings** (average the token vectors, then an MLP) sees nothing that separates the
# classes: it must stay at chance, 50 %. A transformer block with positional embeddings can
# compare the positions of A and B.

# %%
SEQ, VOCAB = 20, 20
rng = np.random.default_rng(0)
tokens = rng.integers(3, VOCAB, size=(N_SEQ, SEQ))
for row in tokens:
    pos_a, pos_b = rng.choice(SEQ, size=2, replace=False)
    row[pos_a], row[pos_b] = 1, 2
order_labels = (np.argmax(tokens == 1, axis=1) < np.argmax(tokens == 2, axis=1)).astype("int32")
split = int(0.8 * N_SEQ)
print("example:", tokens[0], "-> A before B:", order_labels[0], "| positives:", order_labels.mean())


def order_classifier(kind, dim=32):
    ids = keras.Input(shape=(SEQ,), dtype="int32")
    if kind == "bag":
        x = keras.layers.Embedding(VOCAB, dim)(ids)
        x = keras.layers.GlobalAveragePooling1D()(x)  # order thrown away
        x = keras.layers.Dense(32, activation="relu")(x)
    else:
        x = PositionalEmbedding(SEQ, VOCAB, dim)(ids)
        x = encoder_block(x)
        x = keras.layers.GlobalAveragePooling1D()(x)
    out = keras.layers.Dense(1, activation="sigmoid")(x)
    model = keras.Model(ids, out, name=kind)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="binary_crossentropy", metrics=["accuracy"])
    return model


cls_fits, cls_acc = {}, {}
for kind in ["bag", "transformer"]:
    keras.utils.set_random_seed(42)
    model = order_classifier(kind)
    cls_fits[kind] = model.fit(tokens[:split], order_labels[:split], epochs=CLS_EPOCHS, batch_size=64,
                               validation_data=(tokens[split:], order_labels[split:]), verbose=0)
    cls_acc[kind] = model.evaluate(tokens[split:], order_labels[split:], verbose=0)[1]
    print(f"{kind:11s} test accuracy {cls_acc[kind]:.3f}  ({model.count_params()} parameters)")

fig, ax = plt.subplots(figsize=(6, 3.5))
for kind, fit in cls_fits.items():
    ax.plot(range(1, CLS_EPOCHS + 1), fit.history["val_accuracy"], marker="o", label=kind)
ax.axhline(0.5, color="k", ls="--", label="chance")
ax.set(title="Is A before B? Held-out accuracy", xlabel="epoch", ylabel="accuracy", ylim=(0.3, 1.02))
ax.legend()
plt.show()

# %% [markdown]
# ## 6. A tiny GPT: predicting the next character
#
# A **decoder-only** transformer reads characters $x_1..x_T$ and, at every position $t$, predicts
# $x_{t+1}$. The **causal mask** (`use_causal_mask=True`) lets position $t$ attend only to
# positions $\le t$; otherwise it could simply read the answer. One window of $T$ characters thus
# gives $T$ training examples at once. The loss is the cross-entropy in **nats** per character.
#
# **Offline corpus.** The documentation shipped with Python: docstrings of about thirty standard
# library modules (about 200,000 characters of English prose and code examples).
# **Colab (`USE_SHAKESPEARE = True`)**: Tiny Shakespeare, downloaded with `keras.utils.get_file`.
#
# A model that ignores context can do no better than the **unigram entropy**
# $H = -\sum_c p(c) \log p(c)$ of the character frequencies: beating it means the model uses the
# previous characters.

# %%
if USE_SHAKESPEARE:  # ---- real corpus, needs the network (Colab) ----
    path = keras.utils.get_file(
        "shakespeare.txt", "https://storage.googleapis.com/download.tensorflow.org/data/shakespeare.txt")
    with open(path, encoding="utf-8") as f:
        corpus = f.read()
else:  # ---- offline: Python's own documentation ----
    MODULES = ["collections", "itertools", "functools", "json", "re", "string", "textwrap", "random",
               "statistics", "fractions", "decimal", "heapq", "bisect", "argparse", "logging", "pathlib",
               "datetime", "calendar", "csv", "difflib", "pprint", "enum", "dataclasses", "typing",
               "unittest", "doctest", "inspect", "pickle", "shutil", "tempfile"]
    docs = []
    for name in MODULES:
        module = importlib.import_module(name)
        members = [getattr(module, a) for a in dir(module) if not a.startswith("_")]
        docs += [inspect.getdoc(module)] + [inspect.getdoc(m) for m in members
                                             if getattr(m, "__module__", None) == name]
    corpus = "\n\n".join(dict.fromkeys(d for d in docs if d))  # drop duplicates, keep order
corpus = "".join(c for c in corpus if c == "\n" or 32 <= ord(c) < 127)  # plain ASCII
CHARS = sorted(set(corpus))
CHAR_ID = {c: i for i, c in enumerate(CHARS)}
data = np.array([CHAR_ID[c] for c in corpus], dtype="int32")
freq = np.bincount(data, minlength=len(CHARS)) / len(data)
unigram_entropy = float(-np.sum(freq[freq > 0] * np.log(freq[freq > 0])))
print(f"{len(corpus):,} characters, {len(CHARS)} distinct | unigram entropy {unigram_entropy:.3f} nats")
print(corpus[:300])

# %%
cut = int(0.9 * len(data))  # last 10 % held out


def windows(n, lo, hi, rng):
    """n random windows from data[lo:hi]: inputs x_1..x_T and targets x_2..x_{T+1}."""
    starts = rng.integers(lo, hi - CONTEXT - 1, size=n)
    idx = starts[:, None] + np.arange(CONTEXT + 1)
    return data[idx[:, :-1]], data[idx[:, 1:]]


def gpt_block(x, heads=4):
    dim = x.shape[-1]
    h = keras.layers.LayerNormalization()(x)  # pre-norm
    x = x + keras.layers.MultiHeadAttention(heads, dim // heads)(h, h, use_causal_mask=True)
    h = keras.layers.LayerNormalization()(x)
    h = keras.layers.Dense(4 * dim, activation="gelu")(h)
    return x + keras.layers.Dense(dim)(h)


def build_gpt(dim=64, blocks=2):
    ids = keras.Input(shape=(CONTEXT,), dtype="int32")
    x = PositionalEmbedding(CONTEXT, len(CHARS), dim)(ids)
    for _ in range(blocks):
        x = gpt_block(x)
    logits = keras.layers.Dense(len(CHARS))(keras.layers.LayerNormalization()(x))
    model = keras.Model(ids, logits, name="tiny_gpt")
    model.compile(optimizer=keras.optimizers.Adam(3e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


rng = np.random.default_rng(1)
x_gpt, y_gpt = windows(GPT_WINDOWS, 0, cut, rng)
x_val, y_val = windows(512, cut, len(data), rng)
keras.utils.set_random_seed(42)
gpt = build_gpt()
print(f"tiny GPT: {gpt.count_params():,} parameters")
gpt_fit = gpt.fit(x_gpt, y_gpt, epochs=GPT_EPOCHS, batch_size=32, validation_data=(x_val, y_val), verbose=2)
gpt_loss = gpt.evaluate(x_val, y_val, verbose=0)
print(f"held-out loss {gpt_loss:.3f} nats/char vs unigram entropy {unigram_entropy:.3f}")

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(range(1, GPT_EPOCHS + 1), gpt_fit.history["loss"], marker="o", label="training")
ax.plot(range(1, GPT_EPOCHS + 1), gpt_fit.history["val_loss"], marker="o", label="held-out")
ax.axhline(unigram_entropy, color="k", ls="--", label="unigram entropy")
ax.set(title="Tiny GPT: next-character loss", xlabel="epoch", ylabel="cross-entropy (nats/char)")
ax.legend()
plt.show()

# %% [markdown]
# ### Sampling with a temperature
#
# To generate, feed the last `CONTEXT` characters, take the logits $z$ of the **last** position,
# sample the next character from $\mathrm{softmax}(z / \tau)$, append it, repeat. The
# **temperature** $\tau$ trades safety for variety: $\tau \to 0$ is greedy (repetitive),
# $\tau = 1$ samples the model's own distribution, $\tau > 1$ flattens it towards noise.

# %%
def generate(model, prompt, n_chars, temperature, seed=0):
    rng = np.random.default_rng(seed)
    next_logits = tf.function(lambda x: model(x, training=False)[:, -1])  # compiled once, fast
    ids = [CHAR_ID.get(c, CHAR_ID[" "]) for c in prompt]
    for _ in range(n_chars):
        context = ids[-CONTEXT:]
        context = [CHAR_ID[" "]] * (CONTEXT - len(context)) + context  # left-pad short prompts
        logits = next_logits(tf.constant([context])).numpy()[0] / temperature
        p = np.exp(logits - logits.max())
        ids.append(int(rng.choice(len(CHARS), p=p / p.sum())))
    return "".join(CHARS[i] for i in ids)


prompt = "ROMEO:" if USE_SHAKESPEARE else "Return the "
for temperature in [0.3, 0.8, 1.5]:
    print(f"--- temperature {temperature} ---")
    print(generate(gpt, prompt, 100 if FAST else 400, temperature))

# %% [markdown]
# After a few hundred steps the model has learnt spelling fragments, spaces and punctuation;
# after the full lesson it writes plausible words and docstring phrases ("Return a new ...").
# Real GPTs are this model with more blocks, wider vectors, word-piece tokens and vastly more
# text.
#
# ## What we reached
#
# The check: the transformer's accuracy on the order task, which the bag of embeddings cannot
# beyond chance; and the GPT's held-out loss below the unigram entropy. Expect about 0.98 in FAST
# mode and 1.0 in the full lesson (the recorded runs: 0.985 and 1.0), the bag near 0.5.

# %% tags=["check"]
print(f"bag of embeddings {cls_acc['bag']:.3f} | GPT loss {gpt_loss:.3f} < unigram {unigram_entropy:.3f}")
RESULT = {"metric": "transformer_order_accuracy", "value": round(float(cls_acc["transformer"]), 4),
          "target": 0.75 if FAST else 0.95}
print(RESULT)
assert RESULT["value"] >= RESULT["target"], f"accuracy {RESULT['value']} below {RESULT['target']}"
assert cls_acc["transformer"] >= cls_acc["bag"] + 0.15, "the transformer must clearly beat the bag"
assert gpt_loss < unigram_entropy, "the GPT must beat the context-free unigram model"
