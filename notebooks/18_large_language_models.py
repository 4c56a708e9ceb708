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
# # 18 · Large language models
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/dl-course-kit/dl-course-kit/blob/main/notebooks/18_large_language_models.ipynb)
#
# A large language model (LLM) is the decoder of notebook 14 made much bigger and trained on much
# more text, with three ideas around it: **subword tokens** that turn any text into a short
# sequence of integers, **next-token pretraining** on raw text, and **adaptation** of the
# pretrained network to a task, today mostly with parameter-efficient methods such as **LoRA**.
# We build each piece at a size a laptop can train in minutes, and then meet the real thing
# through KerasHub (in Colab).
#
# ## Learning goals
#
# - train a **byte-pair encoding** (BPE) tokenizer from scratch and check that encoding then
#   decoding gives back every byte of the text;
# - pretrain a small **causal decoder** (token + position embeddings, masked self-attention) and
#   measure its **perplexity** against unigram and bigram baselines;
# - decode with **greedy**, **temperature**, **top-k** and **top-p** (nucleus) sampling and
#   explain what each does to the next-token distribution;
# - fine-tune the pretrained decoder with **LoRA** (`layer.enable_lora(rank)`) on a downstream
#   task, count the parameters trained and frozen, and compare with full fine-tuning;
# - place these ideas in the GPT → ChatGPT → LLaMA line and the **scaling laws**.

# %% [markdown]
# ## Setup
#
# This cell works in Colab (where TensorFlow and Keras 3 are preinstalled) and locally. It prints
# the versions and fixes the random seeds so that two runs give the same numbers.

# %%
import collections
import os
import re
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # hide TensorFlow's start-up chatter

import pydoc_data.topics  # the Python reference manual, shipped with every CPython

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
# `FAST = True` (tests, live demos) pretrains for a few hundred steps and fine-tunes on fewer
# examples; the default is the full lesson. `RUN_KERAS_HUB` loads a real pretrained GPT-2 from
# KerasHub at the end: it downloads about 500 MB, so it is on in Colab only.

# %% tags=["parameters"]
FAST = False  # True: short pretraining, small fine-tuning set (tests, live demos)
N_MERGES = 768  # BPE merges: the vocabulary is 256 bytes + N_MERGES tokens
CONTEXT = 64  # tokens the decoder sees
D_MODEL = 128  # width of the token vectors
N_LAYERS = 2  # decoder blocks
N_HEADS = 4  # attention heads per block
BATCH = 32  # windows per training step
PRETRAIN_EPOCHS = 4  # pretraining "epochs" of STEPS_PER_EPOCH steps on random windows
STEPS_PER_EPOCH = 200  # (more overfits this small corpus: see section 3)
PEAK_LR = 1e-3  # pretraining learning rate after warm-up
N_FINETUNE = 3_000  # labelled reviews for fine-tuning (1,000 more are held out)
FINETUNE_EPOCHS = 2
LORA_RANK = 4
LORA_LR, FULL_LR = 2e-2, 1e-3  # learning rates of LoRA and of full fine-tuning
RUN_KERAS_HUB = IN_COLAB  # download GPT-2 from KerasHub (needs the internet)

# %%
if FAST:
    PRETRAIN_EPOCHS, STEPS_PER_EPOCH, PEAK_LR = 3, 100, 3e-3
    N_FINETUNE, FINETUNE_EPOCHS = 1_500, 2
print(f"FAST={FAST}: pretraining {PRETRAIN_EPOCHS}×{STEPS_PER_EPOCH} steps of {BATCH}×{CONTEXT} "
      f"tokens | fine-tuning on {N_FINETUNE} reviews × {FINETUNE_EPOCHS} epochs")

# %% [markdown]
# ## 1. Why subword tokens?
#
# A network reads integers, so text must first be cut into pieces from a fixed **vocabulary**.
# There are three natural choices, and each of the first two fails in its own way.
#
# - **Characters** (or bytes): a tiny vocabulary and nothing is ever unknown, but sequences get
#   long. Attention costs grow with the square of the length, and the model spends its depth
#   re-assembling words letter by letter (notebook 14's character GPT did exactly that).
# - **Words**: short sequences, but the vocabulary explodes (every name, number, typo and
#   inflection is a new entry), and a word never seen in training becomes an `<unk>` token the
#   model cannot read or write.
# - **Subwords**: frequent words get one token (" the", " function"), rare words are spelled from
#   a few frequent pieces (" breakpoint" may become " break" + "point"). Sequences stay short, the
#   vocabulary stays fixed, and *any* string can be encoded.
#
# **Byte-pair encoding** (Sennrich, Haddow & Birch 2016, borrowed from a 1994 compression
# algorithm by Gage) learns the subword vocabulary from data. Start from the 256 possible bytes.
# Count how often every *adjacent pair* of symbols occurs in the corpus, give the most frequent pair
# a new id, replace it everywhere, and repeat. Each **merge** adds one token; after $M$ merges the
# vocabulary has $256 + M$ entries. GPT-2 and most of its successors use this byte-level variant
# (Radford et al. 2019): since the base alphabet is the bytes, no input can be out of vocabulary,
# whatever the language or the emoji.
#
# Before counting, the text is cut into **pre-tokens** (roughly: words with their leading space,
# runs of digits, runs of punctuation, runs of spaces) and merges never cross a pre-token
# boundary. This keeps tokens such as "the." or "e t" out of the vocabulary and makes training
# fast: a word that occurs 5,000 times is stored once with its count.
#
# Our corpus is the **Python language reference** that ships inside every CPython installation
# (`pydoc_data.topics`, the text `help("for")` prints): about 465,000 characters of English
# technical prose with code, offline here and in Colab alike. We hold out every tenth topic as
# validation text. One trap first: the topics overlap (the whole "for" topic is repeated inside
# "compound"), so a naive split puts validation text in the training set. We keep each paragraph
# only where it first appears; the validation perplexity then measures text the model has never
# seen.

# %%
TOPICS = pydoc_data.topics.topics
topic_names = sorted(TOPICS)
# Topics repeat each other ("for" is also part of "compound"): keep each paragraph only where it
# first appears, so that no validation paragraph is also a training paragraph.
seen, unique_topics = set(), {}
for name in topic_names:
    paragraphs = [p for p in TOPICS[name].split("\n\n") if p not in seen]
    seen.update(paragraphs)
    unique_topics[name] = "\n\n".join(paragraphs)
n_all = sum(len(t) for t in TOPICS.values())
n_unique = sum(len(t) for t in unique_topics.values())
val_names = set(topic_names[5::10])  # every tenth topic is held out
train_text = "\n\n".join(unique_topics[k] for k in topic_names if k not in val_names)
val_text = "\n\n".join(unique_topics[k] for k in topic_names if k in val_names)
print(f"{len(topic_names)} topics, {n_all:,} characters, {n_unique:,} after removing repeated "
      f"paragraphs: {len(train_text):,} training and {len(val_text):,} validation characters")
print("held out:", sorted(val_names))
print(TOPICS["for"][:400])

# %%
# Pre-tokens: an optional space + letters, digits, punctuation (and _); or runs of whitespace.
PRETOKEN = re.compile(r" ?[^\W\d_]+| ?\d+| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+")
pieces = PRETOKEN.findall(train_text)
assert "".join(pieces) == train_text, "pre-tokenizing must lose nothing"
word_counts = collections.Counter(pieces)
print(f"{len(pieces):,} pre-tokens, {len(word_counts):,} distinct; the most common:",
      word_counts.most_common(12))

# %% [markdown]
# ### Exercise 1 — one BPE step: count the pairs, merge the best one
#
# A word is a tuple of symbol ids (at first its UTF-8 bytes, e.g. `" the"` is `(32, 116, 104, 101)`)
# and `word_freqs` maps each such tuple to how often the word occurs.
#
# - `count_pairs(word_freqs)` returns a `collections.Counter` mapping each adjacent pair
#   `(a, b)` to its total count: a word that occurs `f` times adds `f` for each place the pair
#   occurs in it.
# - `merge_pair(symbols, pair, new_id)` returns a new tuple where every occurrence of `pair`,
#   scanning **left to right without overlap**, is replaced by `new_id`. So merging `(7, 7)` in
#   `(7, 7, 7)` gives `(new_id, 7)`.
#
# The tokenizer trainer below calls your two functions.

# %% nbgrader={"grade": false, "grade_id": "ex1_bpe_step", "locked": false, "schema_version": 3, "solution": true, "task": false}
def count_pairs(word_freqs):
    """Counter of adjacent symbol pairs, weighted by the frequency of each word."""
    counts = collections.Counter()
    ### BEGIN SOLUTION
    for symbols, freq in word_freqs.items():
        for pair in zip(symbols, symbols[1:]):
            counts[pair] += freq
    ### END SOLUTION
    return counts


def merge_pair(symbols, pair, new_id):
    """symbols with every non-overlapping occurrence of pair (left to right) replaced by new_id."""
    ### BEGIN SOLUTION
    merged, i = [], 0
    while i < len(symbols):
        if i + 1 < len(symbols) and symbols[i] == pair[0] and symbols[i + 1] == pair[1]:
            merged.append(new_id)
            i += 2
        else:
            merged.append(symbols[i])
            i += 1
    return tuple(merged)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex1_bpe_step_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
_freqs = {(1, 2, 3): 5, (2, 3): 2, (3, 1, 2): 1}
_c = count_pairs(_freqs)
assert isinstance(_c, collections.Counter), "return a collections.Counter"
assert _c[(2, 3)] == 7 and _c[(1, 2)] == 6, f"pairs are weighted by word frequency: got {dict(_c)}"
assert merge_pair((1, 2, 3, 1, 2), (1, 2), 9) == (9, 3, 9)
### BEGIN HIDDEN TESTS
assert _c == collections.Counter({(1, 2): 6, (2, 3): 7, (3, 1): 1})
assert count_pairs({(4, 4, 4): 3}) == collections.Counter({(4, 4): 6})  # two positions, 3 each
assert count_pairs({(5,): 10}) == collections.Counter()  # a single symbol has no pair
assert merge_pair((7, 7, 7), (7, 7), 9) == (9, 7), "left to right, no overlap"
assert merge_pair((7, 7, 7, 7), (7, 7), 9) == (9, 9)
assert merge_pair((1, 3, 2), (1, 2), 9) == (1, 3, 2), "only adjacent symbols merge"
assert merge_pair((), (1, 2), 9) == () and merge_pair((1,), (1, 2), 9) == (1,)
assert isinstance(merge_pair([1, 2], (1, 2), 9), tuple), "return a tuple"
### END HIDDEN TESTS

# %% [markdown]
# ### Training the tokenizer
#
# Recounting every pair after every merge would be slow, so the trainer keeps the counts and, at
# each merge, updates only the words that contain the merged pair: subtract their old pairs, merge,
# add their new pairs. That is the standard trick (the reference implementation of Sennrich et al.
# does the same) and it gives exactly the counts a full recount would.
#
# To **encode** a new word, the learnt merges are replayed in the order they were learnt: among
# the pairs present in the word, apply the one with the earliest merge, and repeat until no learnt
# pair is left. **Decoding** simply concatenates the bytes of each token and decodes the UTF-8;
# there is nothing to guess, so decode(encode(text)) must return the text exactly.

# %%
def train_bpe(word_counts, n_merges):
    """Learn n_merges BPE merges from {pre-token string: count}; returns {pair: new id}."""
    word_freqs = collections.Counter()
    for word, count in word_counts.items():
        word_freqs[tuple(word.encode("utf-8"))] += count
    pair_counts = count_pairs(word_freqs)
    merges = {}
    for k in range(n_merges):
        pair = max(pair_counts, key=pair_counts.get)  # the most frequent adjacent pair
        if pair_counts[pair] < 2:
            break
        merges[pair] = new_id = 256 + k
        affected = {w: f for w, f in word_freqs.items() if pair in zip(w, w[1:])}
        old_pairs = count_pairs(affected)
        pair_counts.subtract(old_pairs)
        merged = collections.Counter()
        for word, freq in affected.items():
            del word_freqs[word]
            merged[merge_pair(word, pair, new_id)] += freq
        word_freqs.update(merged)
        pair_counts.update(count_pairs(merged))
        for p in old_pairs:  # drop pairs that no longer occur
            if pair_counts[p] <= 0:
                del pair_counts[p]
    return merges


started = time.perf_counter()
MERGES = train_bpe(word_counts, N_MERGES)
VOCAB = {i: bytes([i]) for i in range(256)}  # token id -> the bytes it stands for
for (a, b), new_id in MERGES.items():
    VOCAB[new_id] = VOCAB[a] + VOCAB[b]
VOCAB_SIZE = len(VOCAB)
print(f"{len(MERGES)} merges in {time.perf_counter() - started:.1f} s; vocabulary {VOCAB_SIZE}")
print("first merges:", [VOCAB[i].decode("utf-8", "replace") for i in list(MERGES.values())[:16]])
print("last merges: ", [VOCAB[i].decode("utf-8", "replace") for i in list(MERGES.values())[-16:]])

# %%
_ENCODE_CACHE = {}


def encode_word(word):
    if word not in _ENCODE_CACHE:
        symbols = tuple(word.encode("utf-8"))
        while len(symbols) > 1:
            pair = min(zip(symbols, symbols[1:]), key=lambda p: MERGES.get(p, np.inf))
            if pair not in MERGES:
                break
            symbols = merge_pair(symbols, pair, MERGES[pair])
        _ENCODE_CACHE[word] = symbols
    return _ENCODE_CACHE[word]


def encode(text):
    return [i for word in PRETOKEN.findall(text) for i in encode_word(word)]


def decode(ids):
    return b"".join(VOCAB[i] for i in ids).decode("utf-8", errors="replace")


train_ids = np.array(encode(train_text), dtype="int32")
val_ids = np.array(encode(val_text), dtype="int32")
assert decode(train_ids) == train_text and decode(val_ids) == val_text, "round trip failed"
sample = 'The "for" statement iterates over a tuple, e.g. for x in (1, 2): print(x) — naïvely!'
sample_ids = encode(sample)
assert decode(sample_ids) == sample
print(f"round trip exact | {len(train_ids):,} training and {len(val_ids):,} validation tokens | "
      f"{len(train_text.encode()) / len(train_ids):.2f} bytes per token")
print(" | ".join(VOCAB[i].decode("utf-8", "replace") for i in sample_ids))

# %% [markdown]
# The first merges are the ones a linguist would guess: runs of spaces and dashes (the manual
# indents its code and underlines its headings), `" t"`, `"he"`, `"in"`, `" the"`. The last ones
# learnt are whole words or stems of this corpus such as `" classes"`, `" syntax"` or
# `" comparison"`. The sample sentence shows the two regimes: common words are single tokens
# (`" statement"`, `" print"`), rarer ones are split into pieces (`" iter"` + `"ates"`), and
# characters outside ASCII fall back
# to raw bytes: the `ï` of "naïvely" is two UTF-8 bytes, the dash three, printed as `�` because
# one byte alone is not a character. The round trip is still exact. With 1,024 tokens our text
# compresses to about three bytes per token; GPT-2's 50,257 tokens reach
# about four on English web text. A larger vocabulary means shorter sequences but a larger
# embedding table and output layer, and rarer tokens, each seen less often in training.
#
# ## 2. Baselines: what perplexity does counting give?
#
# A language model assigns a probability to the next token given the previous ones. Its
# quality on held-out text of $N$ tokens is the average **cross-entropy** (negative
# log-likelihood per token), or its exponential, the **perplexity**:
#
# $$\mathrm{PPL} = \exp\Big(-\frac{1}{N}\sum_{t=1}^{N} \log p(x_t \mid x_{<t})\Big).$$
#
# Perplexity reads as an *effective branching factor*: a model with perplexity 40 is, on average,
# as unsure as if it picked uniformly among 40 tokens. A model that knows nothing and spreads
# probability evenly over our vocabulary scores exactly the vocabulary size. Perplexities are only
# comparable **with the same tokenizer**, since a different vocabulary changes what one "step" is.
#
# Two counting baselines put the number in context. The **unigram** model ignores the context
# and predicts every token with its training frequency. The **bigram** model conditions on the
# previous token only. Many of the $1024^2$ token pairs never occur in training, so the
# bigram estimate is mixed with the unigram one (Jelinek-Mercer interpolation):
# $p(b \mid a) = \lambda\, c(a, b)/c(a) + (1 - \lambda)\, p(b)$; with $\lambda = 0.9$ it is a fair
# opponent. A decoder that sees 64 tokens of context must beat it.

# %%
unigram = np.bincount(train_ids, minlength=VOCAB_SIZE) + 1.0  # add-one: no zero probability
unigram /= unigram.sum()
pair_table = np.zeros((VOCAB_SIZE, VOCAB_SIZE))
np.add.at(pair_table, (train_ids[:-1], train_ids[1:]), 1.0)
row_totals = pair_table.sum(axis=1, keepdims=True)
bigram = 0.9 * pair_table / np.maximum(row_totals, 1.0) + 0.1 * unigram[None, :]
bigram[row_totals[:, 0] == 0] = unigram  # a token never seen as context: fall back to unigram

ppl_unigram = float(np.exp(-np.mean(np.log(unigram[val_ids[1:]]))))
ppl_bigram = float(np.exp(-np.mean(np.log(bigram[val_ids[:-1], val_ids[1:]]))))
print(f"validation perplexity: uniform {VOCAB_SIZE} | unigram {ppl_unigram:.1f} | "
      f"bigram {ppl_bigram:.1f}")

# %% [markdown]
# ## 3. A small causal decoder
#
# The model is a GPT in miniature (Radford et al. 2018), with the pre-normalisation layout of
# GPT-2:
#
# 1. a **token embedding** (a trainable table of shape vocabulary × `D_MODEL`) plus a learnt
#    **position embedding** (context × `D_MODEL`), added together;
# 2. `N_LAYERS` **decoder blocks**, each `x + Attention(LayerNorm(x))` followed by
#    `x + FFN(LayerNorm(x))`, where the feed-forward network is Dense(4·d, GELU) → Dense(d);
# 3. a final layer normalisation and a Dense layer to `VOCAB_SIZE` **logits**.
#
# The attention is `keras.layers.MultiHeadAttention` called with `use_causal_mask=True`: the
# score of position $i$ for position $j > i$ is set to $-\infty$ before the softmax, so each
# position sees only the past. That single mask is what makes the training efficient. One window
# of 65 tokens gives 64 training examples at once: the output at position $t$ predicts token
# $t+1$, the target is the input shifted left by one, and the loss is the mean cross-entropy over
# all 64 positions. The same network can then generate text one token at a time, because at
# position $t$ it never relied on anything it will not have at generation time.
#
# Pretraining uses AdamW and the learning-rate schedule of nearly every LLM: a linear
# **warm-up** (large early steps on a random network are unstable with Adam, whose second-moment
# estimates are still poor) followed by a **cosine decay**. Each "epoch" draws fresh random
# windows from the training tokens, and after each one we measure the validation perplexity on
# the held-out topics.

# %%
class DecoderBlock(keras.layers.Layer):
    """Pre-norm transformer decoder block: causal self-attention, then a feed-forward network."""

    def __init__(self, d_model, n_heads, **kwargs):
        super().__init__(**kwargs)
        self.norm1 = keras.layers.LayerNormalization(epsilon=1e-5)
        self.attention = keras.layers.MultiHeadAttention(n_heads, d_model // n_heads)
        self.norm2 = keras.layers.LayerNormalization(epsilon=1e-5)
        self.ffn_in = keras.layers.Dense(4 * d_model, activation="gelu")
        self.ffn_out = keras.layers.Dense(d_model)

    def call(self, x):
        h = self.norm1(x)
        x = x + self.attention(h, h, use_causal_mask=True)  # position i sees positions <= i
        return x + self.ffn_out(self.ffn_in(self.norm2(x)))


class PositionEmbedding(keras.layers.Layer):
    """Adds a learnt vector for each position 0 .. max_length-1."""

    def __init__(self, max_length, d_model, **kwargs):
        super().__init__(**kwargs)
        self.table = keras.layers.Embedding(max_length, d_model)

    def call(self, x):
        return x + self.table(keras.ops.arange(keras.ops.shape(x)[1]))


def make_decoder():
    tokens = keras.Input((None,), dtype="int32")
    x = keras.layers.Embedding(VOCAB_SIZE, D_MODEL, name="token_embedding")(tokens)
    x = PositionEmbedding(CONTEXT, D_MODEL, name="position_embedding")(x)
    for i in range(N_LAYERS):
        x = DecoderBlock(D_MODEL, N_HEADS, name=f"block_{i}")(x)
    x = keras.layers.LayerNormalization(epsilon=1e-5, name="final_norm")(x)
    logits = keras.layers.Dense(VOCAB_SIZE, name="lm_head")(x)
    return keras.Model(tokens, logits, name="tiny_gpt")


decoder = make_decoder()
decoder.summary()

# %%
rng = np.random.default_rng(0)


def random_windows(ids, n):
    """n random windows: inputs x_1..x_T and targets x_2..x_{T+1} (T = CONTEXT)."""
    starts = rng.integers(0, len(ids) - CONTEXT - 1, n)
    w = np.stack([ids[s:s + CONTEXT + 1] for s in starts])
    return w[:, :-1], w[:, 1:]


n_val = (len(val_ids) - 1) // CONTEXT  # consecutive windows covering the validation text
x_val = val_ids[:n_val * CONTEXT].reshape(n_val, CONTEXT)
y_val = val_ids[1:n_val * CONTEXT + 1].reshape(n_val, CONTEXT)

total_steps = PRETRAIN_EPOCHS * STEPS_PER_EPOCH
warmup = max(1, total_steps // 10)
schedule = keras.optimizers.schedules.CosineDecay(
    0.0, decay_steps=total_steps - warmup, alpha=0.1, warmup_target=PEAK_LR, warmup_steps=warmup)
decoder.compile(optimizer=keras.optimizers.AdamW(schedule, weight_decay=0.01),
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))

started = time.perf_counter()
val_ppl_curve = []
for epoch in range(PRETRAIN_EPOCHS):
    x_train, y_train = random_windows(train_ids, STEPS_PER_EPOCH * BATCH)
    decoder.fit(x_train, y_train, batch_size=BATCH, epochs=1, verbose=0)
    val_ppl_curve.append(float(np.exp(decoder.evaluate(x_val, y_val, batch_size=128, verbose=0))))
    print(f"epoch {epoch + 1}: {(epoch + 1) * STEPS_PER_EPOCH} steps, validation perplexity "
          f"{val_ppl_curve[-1]:.1f} ({time.perf_counter() - started:.0f} s)")
ppl_decoder = val_ppl_curve[-1]
pretrained_weights = decoder.get_weights()

# %%
steps = np.arange(1, PRETRAIN_EPOCHS + 1) * STEPS_PER_EPOCH
fig, ax = plt.subplots(figsize=(7, 4))
ax.plot(steps, val_ppl_curve, "o-", label="decoder (64 tokens of context)")
ax.axhline(ppl_unigram, color="grey", ls=":", label=f"unigram ({ppl_unigram:.0f})")
ax.axhline(ppl_bigram, color="tab:red", ls="--", label=f"bigram ({ppl_bigram:.1f})")
ax.set_yscale("log")
ax.set_title("Pretraining: validation perplexity on held-out topics")
ax.set_xlabel("training step")
ax.set_ylabel("perplexity (log scale)")
ax.legend()
plt.show()
print(f"decoder {ppl_decoder:.1f} vs bigram {ppl_bigram:.1f}: ratio {ppl_decoder / ppl_bigram:.2f}")

# %% [markdown]
# How to read the curve: the first epoch already drops far below the unigram line, because
# learning which tokens are frequent and which usually follow which is easy. Crossing the bigram
# line is the interesting event: from there on the decoder uses **more than one token of
# context**, attending to the words it has seen in the window (the keyword being documented, the
# open quote, the indentation of a code block). In FAST mode (300 steps) the decoder ends about
# 30 % below the bigram (45 against 67); the full lesson (800 steps) reaches about 37, 45 %
# below it.
#
# Why stop at 800 steps? Our training text is only about 0.12 million tokens, and 800 steps of
# 32 × 64 tokens already show each of them to the model about 14 times. A longer run of this very
# notebook (2,000 steps) saw the validation perplexity bottom out near 40 after 600 steps and then
# *rise* (43.6 at 1,000 steps) while the training loss kept falling: the decoder had started to
# memorise the training topics. Real pretraining runs avoid this by almost never repeating data:
# they are limited by compute, not by text, and their loss keeps falling as models and data
# grow. That observation, made precise, is the
# subject of the next section.
#
# ## 4. Scaling: from GPT to ChatGPT and LLaMA
#
# The model above has about 670,000 parameters and saw a few million tokens. The same recipe,
# scaled, is the history of the field:
#
# - **GPT** (Radford et al. 2018) pretrained a 12-layer decoder on books, then fine-tuned it,
#   with a small task head, on each benchmark: the "pretrain, then fine-tune" pattern.
# - **GPT-2** (Radford et al. 2019, 1.5 billion parameters, byte-level BPE) showed that a larger
#   model trained on web text performs some tasks **zero-shot**, when the task is phrased as text
#   to continue ("TL;DR:" for summaries).
# - **GPT-3** (Brown et al. 2020, 175 billion parameters) made **in-context learning** the
#   headline: a few examples in the prompt, no gradient step, and the model does the task.
# - **Scaling laws** (Kaplan et al. 2020) measured that the test loss falls as a smooth **power
#   law** in the number of parameters $N$, the number of training tokens $D$ and the compute $C$,
#   over many orders of magnitude, with the architecture's details mattering far less. A power law
#   $L(N) \approx (N_c / N)^{\alpha}$ is a straight line on log-log axes, so one can fit it on
#   small runs and predict a big one before paying for it.
# - **Chinchilla** (Hoffmann et al. 2022) re-did the fit with learning-rate schedules matched to
#   each run's length and found that, for a fixed compute budget, parameters and tokens should grow
#   **in equal proportion**, about 20 training tokens per parameter. GPT-3 was under-trained: the
#   70-billion-parameter Chinchilla, trained on 1.4 trillion tokens, beat the 280-billion Gopher
#   with the same compute.
# - **InstructGPT** (Ouyang et al. 2022), the method behind ChatGPT, added two stages after
#   pretraining: supervised fine-tuning on demonstrations of helpful answers, then
#   **reinforcement learning from human feedback** (RLHF): a reward model trained on human
#   rankings of answers, and the policy optimised against it with PPO. A 1.3-billion-parameter
#   InstructGPT was preferred by labellers to the 175-billion GPT-3.
# - **LLaMA** (Touvron et al. 2023) trained models of 7 to 65 billion parameters on public data
#   only, for far longer than Chinchilla's optimum (1 to 1.4 trillion tokens), because a smaller
#   model that is trained longer is cheaper to *use*. Its released weights started the open-model
#   ecosystem on which LoRA fine-tuning is now routine.
#
# Our decoder obeys the same rules in miniature. By Chinchilla's rule of thumb its 670,000
# parameters would want about 13 million training tokens; the full lesson shows it
# 800 × 32 × 64 ≈ 1.6 million token predictions drawn from only 0.12 million tokens of text. We
# are short of data, not of compute, the opposite of the regime the scaling laws describe, and
# that is why our curve turns up where theirs keeps falling.
#
# ## 5. Sampling strategies
#
# Generation repeats one step: run the decoder on the tokens so far, take the logits $z$ of the
# **last** position, choose a next token, append it. The choice is the **decoding strategy**:
#
# - **greedy**: take $\arg\max z$. Deterministic and locally optimal, but small models fall into
#   loops ("the the the", or a sentence repeated forever), because the most likely continuation of
#   a repetition is often more repetition;
# - **temperature** $\tau$: sample from $\mathrm{softmax}(z / \tau)$. $\tau < 1$ sharpens the
#   distribution towards greedy, $\tau > 1$ flattens it towards uniform noise;
# - **top-k** (Fan, Lewis & Dauphin 2018): keep the $k$ largest logits, renormalise, sample. It
#   cuts off the long tail of individually unlikely tokens which, together, carry a lot of
#   probability mass and produce the nonsense of pure sampling;
# - **top-p** or nucleus sampling (Holtzman et al. 2020): keep the *smallest* set of tokens whose
#   probabilities add up to at least $p$. Unlike a fixed $k$, the nucleus adapts: after
#   "The for" it may contain two tokens, at the start of a sentence two hundred.
#
# The figure below shows the four filters on one real next-token distribution of our decoder.

# %% [markdown]
# ### Exercise 2 — nucleus (top-p) filtering
#
# Write `top_p_filter(logits, p)` for a 1-D NumPy array of logits. Return a copy where every
# token **outside** the nucleus has logit `-np.inf`. The nucleus is the smallest set of the most
# probable tokens whose softmax probabilities sum to at least `p`; the single most probable token
# is always kept (so `p` close to 0 gives greedy decoding). Hint: `np.argsort(-logits)`, the
# softmax, `np.cumsum`; a token is in the nucleus if the probability mass of the tokens *before* it
# in sorted order is still below `p`.

# %% nbgrader={"grade": false, "grade_id": "ex2_top_p", "locked": false, "schema_version": 3, "solution": true, "task": false}
def top_p_filter(logits, p):
    """Logits with everything outside the top-p nucleus set to -inf."""
    logits = np.asarray(logits, dtype="float64")
    ### BEGIN SOLUTION
    order = np.argsort(-logits)
    probs = np.exp(logits[order] - logits[order[0]])
    probs /= probs.sum()
    mass_before = np.cumsum(probs) - probs
    keep = order[mass_before < p]
    keep = keep if len(keep) else order[:1]
    filtered = np.full_like(logits, -np.inf)
    filtered[keep] = logits[keep]
    return filtered
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex2_top_p_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
_z = np.log(np.array([0.5, 0.3, 0.15, 0.05]))
_f = top_p_filter(_z, 0.7)
assert _f.shape == (4,), "same shape as the logits"
assert np.isfinite(_f[:2]).all() and np.isneginf(_f[2:]).all(), f"0.5 + 0.3 >= 0.7: got {_f}"
### BEGIN HIDDEN TESTS
np.testing.assert_allclose(_f[:2], _z[:2])  # kept logits are unchanged
assert np.isfinite(top_p_filter(_z, 0.75)).sum() == 2, "0.5 + 0.3 reaches 0.75: two tokens"
assert np.isfinite(top_p_filter(_z, 0.85)).sum() == 3, "0.5 + 0.3 < 0.85: a third token"
assert np.isfinite(top_p_filter(_z, 1.0)).sum() == 4
assert np.isfinite(top_p_filter(_z, 1e-9)).sum() == 1, "the top token is always kept"
_shuffled = np.log(np.array([0.05, 0.3, 0.5, 0.15])) + 3.0  # unsorted, shifted logits
assert list(np.isfinite(top_p_filter(_shuffled, 0.7))) == [False, True, True, False]
### END HIDDEN TESTS

# %%
def top_k_filter(logits, k):
    """Logits with all but the k largest set to -inf."""
    logits = np.asarray(logits, dtype="float64")
    kth_largest = np.sort(logits)[-k]
    return np.where(logits >= kth_largest, logits, -np.inf)


def softmax(z):
    z = np.asarray(z, dtype="float64")
    e = np.exp(z - z.max())
    return e / e.sum()


def generate(model, prompt, n_tokens, strategy="greedy", temperature=1.0, k=10, p=0.9, seed=0):
    """Continue prompt by n_tokens, choosing each token with the given strategy."""
    sampler_rng = np.random.default_rng(seed)
    ids = encode(prompt)
    for _ in range(n_tokens):
        context = ids[-CONTEXT:]
        # Right-pad to a fixed shape so the compiled step is reused: thanks to the causal mask the
        # padding after the last real token cannot change that token's logits.
        padded = np.zeros((1, CONTEXT), dtype="int32")
        padded[0, :len(context)] = context
        logits = next_token_logits(model, padded)[len(context) - 1].astype("float64")
        if strategy == "greedy":
            ids.append(int(np.argmax(logits)))
            continue
        logits = logits / temperature
        if strategy == "top_k":
            logits = top_k_filter(logits, k)
        elif strategy == "top_p":
            logits = top_p_filter(logits, p)
        ids.append(int(sampler_rng.choice(len(logits), p=softmax(logits))))
    return decode(ids)


_compiled = {}


def next_token_logits(model, padded):
    """Logits at every position of one padded window, with the forward pass compiled once."""
    if id(model) not in _compiled:
        _compiled[id(model)] = tf.function(lambda x: model(x, training=False)[0])
    return _compiled[id(model)](tf.constant(padded)).numpy()


PROMPT = 'The "while" statement is used'
strategies = {"greedy": {}, "temperature 0.7": dict(strategy="sample", temperature=0.7),
              "temperature 1.5": dict(strategy="sample", temperature=1.5),
              "top-k (k=10)": dict(strategy="top_k", k=10), "top-p (p=0.9)": dict(strategy="top_p", p=0.9)}
for name, kwargs in strategies.items():
    print(f"--- {name} ---\n{generate(decoder, PROMPT, 40, **kwargs)}\n")

# %%
next_logits = decoder(np.array([encode(PROMPT)], dtype="int32"), training=False)[0, -1].numpy()
order = np.argsort(-next_logits)[:25]
labels = [repr(VOCAB[i].decode("utf-8", "replace")) for i in order]
panels = {"temperature 1.0": softmax(next_logits), "temperature 0.5": softmax(next_logits / 0.5),
          "top-k, k=5": softmax(top_k_filter(next_logits, 5)),
          "top-p, p=0.9": softmax(top_p_filter(next_logits, 0.9))}
fig, axes = plt.subplots(1, 4, figsize=(15, 4), sharey=True)
fig.suptitle(f"Next-token distribution after {PROMPT!r}: the 25 most likely tokens")
for ax, (name, probs) in zip(axes, panels.items()):
    ax.bar(range(25), probs[order])
    ax.set_xticks(range(25), labels, rotation=90, fontsize=7)
    ax.set_title(f"{name}: {np.sum(probs > 0)} tokens possible")
    ax.set_xlabel("token")
axes[0].set_ylabel("probability")
plt.tight_layout()
plt.show()

# %% [markdown]
# What to look for. Greedy decoding gives the single most likely path: fragments in the style of
# the manual, and a tendency to repeat itself (a phrase or an invented keyword comes back), which
# in longer outputs turns into loops. Temperature 0.7 stays close to that path with some
# variety; temperature 1.5 drifts into invented words, because it gives the long tail of
# rare tokens a real chance at every step, and one bad token derails the rest. Top-k and top-p
# keep the variety and cut the tail. In the figure, temperature 1.0 leaves all 1,024 tokens
# possible; top-k keeps exactly five whatever the shape of the distribution; the nucleus keeps as
# many as needed to cover 90 % of the mass, which depends on how sure the model is. There is no
# best strategy for all uses: code completion and factual answers prefer low temperature, stories
# and brainstorming higher, and production systems usually combine a temperature with top-p.
#
# ## 6. LoRA: fine-tuning a few thousand parameters
#
# Fine-tuning all the weights of a pretrained model for each task is the classic recipe, but for
# an LLM it means storing a full copy of billions of weights per task, and an optimizer state
# (Adam keeps two more numbers per weight) that no single GPU can hold. **Low-rank adaptation**
# (Hu et al. 2021) freezes the pretrained weights and learns a *small correction* to some weight
# matrices. A frozen kernel $W$ of shape $d_{in} \times d_{out}$ is used as
#
# $$W' = W + \frac{\alpha}{r}\, A B, \qquad A \in \mathbb{R}^{d_{in} \times r},\; B \in \mathbb{R}^{r \times d_{out}},$$
#
# with a rank $r$ of 4 to 64, much smaller than $d_{in}$ and $d_{out}$. Only $A$ and $B$ are
# trained: $r\,(d_{in} + d_{out})$ numbers instead of $d_{in} d_{out}$. $B$ starts at zero, so
# the adapted model starts *exactly* equal to the pretrained one, and training moves it only as
# far as the task needs. Why should a low-rank update be enough? Hu et al. hypothesised, and
# their analysis of the learnt updates supports, that the weight change needed to adapt a
# pretrained model has a low "intrinsic rank": adapting to a task mostly amplifies a few
# directions the pretrained model already represents. After training,
# $W + \frac{\alpha}{r}AB$ can be computed once and stored as an ordinary kernel, so there is no
# extra cost at inference, and one base model can serve many tasks with a few megabytes of
# adapters each.
#
# In Keras 3 this is one call: `layer.enable_lora(rank)` on a built `Dense` or `EinsumDense` layer
# freezes its kernel and adds the trainable `lora_kernel_a` and `lora_kernel_b` (Keras's $A$ and
# $B$; by default $\alpha = r$, so the scale is 1). Following Hu et al., we adapt the **query and
# value projections** of every attention layer, which `MultiHeadAttention` exposes as its public
# `query_dense` and `value_dense` properties (both `EinsumDense`). Then we freeze every other
# variable (embeddings, norms, biases, feed-forward layers and output head), so that only the
# adapters are trained.
#
# **The downstream task.** Short reviews of software, generated here with their labels, to be
# completed with the word " positive" or " negative", as in `Review: the parser is fast but the
# documentation is confusing.\nVerdict: negative`. A bag of words cannot solve it: "not" flips
# the meaning of the adjective that follows, and in "X but Y" the clause after "but" decides. The
# pretrained decoder has never seen this format, so before fine-tuning it should be near chance.
# We train with the language-model loss on the **label tokens only** (a sample weight of 1 on
# those positions and 0 on the review), which is how instruction tuning trains on answers and not
# on prompts. The two labels start with different tokens, so the model's prediction is a
# comparison of two logits at the position of "Verdict:": whichever label's first token it finds
# more likely. Classification has become next-token prediction, the way GPT-2 and GPT-3 were
# evaluated on benchmarks.

# %%
SUBJECTS = ["the documentation", "the API", "the parser", "the installer", "the error output",
            "the test suite", "the new release", "the syntax", "the debugger", "the tutorial",
            "the library", "the compiler"]
GOOD = ["clear", "fast", "reliable", "simple", "elegant", "helpful", "stable", "consistent"]
BAD = ["slow", "confusing", "broken", "fragile", "verbose", "buggy", "inconsistent", "useless"]
LABELS = [" negative", " positive"]


def make_review(r):
    """A review and its label (1 = positive) from one of four templates."""
    good = bool(r.integers(2))
    first, second = r.choice(SUBJECTS, 2, replace=False)
    adjective = lambda positive: r.choice(GOOD if positive else BAD)  # noqa: E731
    template = r.integers(4)
    if template == 0:
        return f"{first} is {adjective(good)}.", int(good)
    if template == 1:  # negation flips the adjective
        return f"{first} is not {adjective(not good)}.", int(good)
    if template == 2:  # the clause after "but" decides
        return f"{first} is {adjective(not good)} but {second} is {adjective(good)}.", int(good)
    return f"{first} is {adjective(good)} and {second} is {adjective(good)}.", int(good)


review_rng = np.random.default_rng(1)
reviews = {}
while len(reviews) < N_FINETUNE + 1_000:  # distinct reviews: no test review is seen in training
    text, label = make_review(review_rng)
    reviews.setdefault(text[0].upper() + text[1:], label)
reviews = list(reviews.items())
review_rng.shuffle(reviews)
train_reviews, test_reviews = reviews[:N_FINETUNE], reviews[N_FINETUNE:]
REVIEW_LEN = 48  # tokens, padded: every review fits (checked below)


def review_arrays(items):
    """Inputs, targets and a weight that is 1 on the label tokens only."""
    x = np.zeros((len(items), REVIEW_LEN), "int32")
    y, weight = np.zeros_like(x), np.zeros(x.shape, "float32")
    for i, (text, label) in enumerate(items):
        prompt, answer = encode(f"Review: {text}\nVerdict:"), encode(LABELS[label])
        seq = prompt + answer
        assert len(seq) <= REVIEW_LEN + 1, "raise REVIEW_LEN"
        x[i, :len(seq) - 1], y[i, :len(seq) - 1] = seq[:-1], seq[1:]
        weight[i, len(prompt) - 1:len(seq) - 1] = 1.0
    return x, y, weight


LABEL_FIRST = [encode(label)[0] for label in LABELS]  # the labels' first tokens differ
assert LABEL_FIRST[0] != LABEL_FIRST[1]


def review_accuracy(model, items):
    """Share of reviews whose label's first token gets the larger logit after "Verdict:"."""
    x, _, weight = review_arrays(items)
    answer_at = weight.argmax(axis=1)  # the output there predicts the label's first token
    logits = model.predict(x, batch_size=250, verbose=0)[np.arange(len(x)), answer_at]
    predicted = (logits[:, LABEL_FIRST[1]] > logits[:, LABEL_FIRST[0]]).astype(int)
    return float(np.mean(predicted == np.array([label for _, label in items])))


x_ft, y_ft, w_ft = review_arrays(train_reviews)
print(f"{len(train_reviews)} training and {len(test_reviews)} test reviews, e.g.")
for text, label in train_reviews[:3]:
    print(f"  Review: {text}  ->{LABELS[label]}")
print("label tokens:", {lab: [VOCAB[i].decode() for i in encode(lab)] for lab in LABELS})

# %% [markdown]
# Three models start from the same pretrained weights: the **base** model, not fine-tuned; a
# **LoRA** model, whose adapters alone are trained; and a **fully fine-tuned** model, where every
# weight is trained. The LoRA model gets a larger learning rate, as is usual: its adapters start
# from zero and have few parameters to move.

# %%
def pretrained_copy():
    model = make_decoder()
    model.set_weights(pretrained_weights)
    return model


def count(variables):
    return int(sum(np.prod(v.shape) for v in variables))


base_model = pretrained_copy()
acc_base = review_accuracy(base_model, test_reviews)

lora_model = pretrained_copy()
for i in range(N_LAYERS):
    attention = lora_model.get_layer(f"block_{i}").attention
    attention.query_dense.enable_lora(LORA_RANK)  # public properties of MultiHeadAttention
    attention.value_dense.enable_lora(LORA_RANK)
for variable in lora_model.weights:  # freeze everything but the adapters
    if "lora_kernel" not in variable.path:
        variable.trainable = False
n_trained, n_frozen = count(lora_model.trainable_weights), count(lora_model.non_trainable_weights)
lora_share = n_trained / (n_trained + n_frozen)
print(f"LoRA rank {LORA_RANK}: {n_trained:,} parameters trained, {n_frozen:,} frozen "
      f"({100 * lora_share:.2f} % trained)")
print("trained:", [v.path for v in lora_model.trainable_weights][:4], "...")

results = {"base (not fine-tuned)": (acc_base, 0)}
for name, model, lr in [("LoRA", lora_model, LORA_LR), ("full fine-tuning", pretrained_copy(), FULL_LR)]:
    model.compile(optimizer=keras.optimizers.Adam(lr),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    started = time.perf_counter()
    model.fit(x_ft, y_ft, sample_weight=w_ft, batch_size=32, epochs=FINETUNE_EPOCHS, verbose=0)
    results[name] = (review_accuracy(model, test_reviews), count(model.trainable_weights))
    print(f"{name:18s} test accuracy {results[name][0]:.3f} with {results[name][1]:>7,} trained "
          f"parameters ({time.perf_counter() - started:.0f} s)")
print(f"base (not tuned)   test accuracy {acc_base:.3f}")
acc_lora, acc_full = results["LoRA"][0], results["full fine-tuning"][0]

# %%
fig, ax = plt.subplots(figsize=(7, 4))
names = list(results)
bars = ax.bar(names, [results[n][0] for n in names], color=["grey", "tab:green", "tab:blue"])
for bar, n in zip(bars, names):
    ax.text(bar.get_x() + bar.get_width() / 2, bar.get_height() + 0.01,
            f"{results[n][1]:,} trained", ha="center")
ax.axhline(0.5, color="k", ls=":", lw=1)
ax.set_ylim(0, 1.1)
ax.set_title("Review verdicts: test accuracy after fine-tuning")
ax.set_xlabel("model")
ax.set_ylabel("test accuracy")
plt.show()

# %% [markdown]
# The base model is close to 0.5, a coin toss: it has learnt English-like text about Python, not
# this task. LoRA, training about 1.3 % of the parameters, comes close to full fine-tuning,
# which trained all of them: in FAST mode about 0.89 against 0.94, after only 94 steps each; in
# the full lesson (188 steps) LoRA reaches about 0.97. What the numbers hide is the cost at scale: for a
# 7-billion-parameter model, the fully fine-tuned copy is another 14 GB per task (in 16-bit), the
# LoRA adapters of rank 8 on the query and value projections a few megabytes. Full fine-tuning
# also needs gradients and Adam states for every weight, which is why QLoRA (Dettmers et al.
# 2023) fine-tunes a 65-billion-parameter model on one GPU by combining LoRA with a 4-bit frozen
# base.

# %% [markdown]
# ### Conceptual question — the size of an adapter
#
# A frozen `Dense` layer maps 768 features to 3,072 (the first feed-forward layer of GPT-2 small).
# You call `layer.enable_lora(8)`. How many **trainable** parameters does the layer now have? The
# bias is frozen, like the kernel. Assign a whole number to `ANSWER`.

# %% nbgrader={"grade": false, "grade_id": "concept_lora_size", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
ANSWER = 8 * (768 + 3072)  # A is 768 x 8, B is 8 x 3072
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "concept_lora_size_test", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
assert isinstance(ANSWER, (int, np.integer)), "ANSWER must be a whole number of parameters"
### BEGIN HIDDEN TESTS
assert ANSWER == 30720, "A is 768 x 8 and B is 8 x 3072: 8 * (768 + 3072), against 2.36 million frozen"
### END HIDDEN TESTS

# %% [markdown]
# ## 7. The real thing: a pretrained model from KerasHub
#
# KerasHub packages pretrained LLMs (GPT-2, Gemma, Llama, Mistral, ...) as Keras models with
# their tokenizer, so everything above has a one-line counterpart: `from_preset` downloads the
# weights and the BPE vocabulary, `generate` runs the sampling loop with a `sampler` of your
# choice (`"greedy"`, `keras_hub.samplers.TopKSampler(k)`, `TopPSampler(p)`), and
# `backbone.enable_lora(rank)` adds adapters to the query and value projections of every
# attention layer, exactly as we did by hand. The cell runs only in Colab (it downloads about
# 500 MB); Gemma presets also need a Kaggle account that accepted the licence. Expect GPT-2's
# 124 million parameters to write fluent English, and LoRA of rank 4 to leave well under 1 % of
# them trainable.

# %%
if RUN_KERAS_HUB:
    import importlib.util
    import subprocess

    if importlib.util.find_spec("keras_hub") is None:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "keras-hub"], check=True)
    import keras_hub

    gpt2 = keras_hub.models.GPT2CausalLM.from_preset("gpt2_base_en")
    for sampler in ["greedy", keras_hub.samplers.TopPSampler(p=0.9, seed=0)]:
        gpt2.compile(sampler=sampler)
        print(f"--- {sampler if isinstance(sampler, str) else 'top-p 0.9'} ---")
        print(gpt2.generate("The for statement in Python", max_length=60))
    gpt2.backbone.enable_lora(rank=4)
    hub_trained = count(gpt2.backbone.trainable_weights)
    hub_total = count(gpt2.backbone.weights)
    print(f"GPT-2 with LoRA: {hub_trained:,} of {hub_total:,} parameters trainable "
          f"({100 * hub_trained / hub_total:.2f} %)")
else:
    print("RUN_KERAS_HUB is False: skipping the GPT-2 download (set it to True in Colab).")

# %% [markdown]
# ## Common pitfalls
#
# - **Comparing perplexities across tokenizers.** Perplexity is per token. A tokenizer with
#   bigger tokens makes each prediction harder and the sequence shorter, so a GPT-2 perplexity
#   and a character-level perplexity are not on the same scale. Compare models on the same
#   tokenization, or convert to bits per byte.
# - **A round trip that is not exact.** If `decode(encode(text)) != text`, something was
#   dropped: whitespace lost in pre-tokenization, a character outside the base alphabet mapped to
#   `<unk>`, or a lowercase step. Byte-level BPE has no unknown symbols, so test the round trip
#   on odd text (accents, emoji, tabs) as the cell above does.
# - **Merging overlapping pairs wrongly.** In "aaa", merging ("a", "a") gives "Xa", not "XX":
#   scan left to right and skip the second symbol of each merge. Counting the pairs of a word
#   without its frequency weights is the other classic bug.
# - **Forgetting the causal mask, or shifting the targets the wrong way.** Without
#   `use_causal_mask=True` the model reads the token it must predict; the training loss then
#   drops to almost zero, while generation, where the future is really unknown, produces garbage.
#   The same happens if the target is not the input shifted left by one. A suspiciously low
#   training loss from a tiny model is the symptom.
# - **Trusting greedy decoding to judge a model.** Greedy output of a small model loops even when
#   the model is decent; sample with a moderate temperature or top-p before concluding it learnt
#   nothing, and fix the sampler's seed when comparing models.
# - **LoRA that trains everything, or nothing.** `enable_lora` freezes only the layer's own kernel:
#   biases, embeddings and the other layers stay trainable unless you freeze them, as we did
#   variable by variable. Setting `trainable = False` on a *layer* after enabling LoRA freezes the
#   adapters too. Always print the trained and frozen counts, and recompile after changing them.
# - **Evaluating on what you trained on.** Corpora repeat themselves. Without the paragraph
#   deduplication of section 1, this notebook's full lesson reached a "validation" perplexity of
#   about 7 against the bigram's 36, largely by memorising held-out paragraphs that
#   also occur in training topics. Deduplicate before splitting, and be suspicious of a
#   validation score that keeps improving long after the model has seen every training token many
#   times. Templated data has the same trap: our test reviews are distinct from the training ones.
#
# ## Further reading
#
# - Sennrich, Haddow & Birch (2016), *Neural Machine Translation of Rare Words with Subword
#   Units* (byte-pair encoding for NLP).
# - Radford, Narasimhan, Salimans & Sutskever (2018), *Improving Language Understanding by
#   Generative Pre-Training* (GPT); Radford et al. (2019), *Language Models are Unsupervised
#   Multitask Learners* (GPT-2, byte-level BPE).
# - Brown et al. (2020), *Language Models are Few-Shot Learners* (GPT-3).
# - Kaplan et al. (2020), *Scaling Laws for Neural Language Models*; Hoffmann et al. (2022),
#   *Training Compute-Optimal Large Language Models* (Chinchilla).
# - Ouyang et al. (2022), *Training Language Models to Follow Instructions with Human Feedback*
#   (InstructGPT, RLHF).
# - Touvron et al. (2023), *LLaMA: Open and Efficient Foundation Language Models*.
# - Hu et al. (2021), *LoRA: Low-Rank Adaptation of Large Language Models*; Dettmers et al.
#   (2023), *QLoRA: Efficient Finetuning of Quantized LLMs*.
# - Holtzman, Buys, Du, Forbes & Choi (2020), *The Curious Case of Neural Text Degeneration*
#   (nucleus sampling); Fan, Lewis & Dauphin (2018), *Hierarchical Neural Story Generation*
#   (top-k sampling).
# - Jurafsky & Martin (2024), *Speech and Language Processing*, 3rd ed. draft, chapter 3 (n-gram
#   language models and perplexity); Chollet (2021), *Deep Learning with Python*, 2nd ed.,
#   chapter 12 (text generation).
#
# ## What we reached
#
# The check: the pretrained decoder's validation perplexity must beat the interpolated bigram by a
# margin (10 % in FAST mode, 25 % in the full lesson), and the LoRA model must beat the
# un-fine-tuned model on the review task by at least 0.25 accuracy while training under 2 % of
# the parameters.
#
# Recorded by `benchmarks/notebooks.py` for `decoder_val_perplexity`: FAST mode 45.271 (target ≤ 59.912, 67 s, 2026-11-23); full lesson 36.67 (target ≤ 49.927, 547 s, 2026-11-23).

# %% tags=["check"]
print(f"perplexity: decoder {ppl_decoder:.2f} | bigram {ppl_bigram:.2f} | unigram {ppl_unigram:.1f}")
print(f"review accuracy: base {acc_base:.3f} | LoRA {acc_lora:.3f} ({100 * lora_share:.2f} % "
      f"trained) | full fine-tuning {acc_full:.3f}")
RESULT = {"metric": "decoder_val_perplexity", "value": round(ppl_decoder, 3),
          "target": round((0.90 if FAST else 0.75) * ppl_bigram, 3), "higher_is_better": False}
print(RESULT)
assert RESULT["value"] <= RESULT["target"], f"perplexity {RESULT['value']} above {RESULT['target']}"
assert acc_lora >= acc_base + 0.25, f"LoRA ({acc_lora:.3f}) must beat the base model ({acc_base:.3f})"
assert lora_share < 0.02, f"LoRA trained {100 * lora_share:.2f} % of the parameters"
