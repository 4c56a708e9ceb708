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
# # 15 · Adversarial examples
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/dl-course-kit/dl-course-kit/blob/main/notebooks/15_adversarial_examples.ipynb)
#
# A classifier that is 88 % accurate on Fashion-MNIST can be made almost always wrong by changing
# every pixel by an amount too small to notice. Such inputs are **adversarial examples**. They
# matter for security (spam filters, face recognition, self-driving perception) and they tell us
# something about what networks learn: features that are predictive, but not the ones we see.
#
# ## Learning goals
#
# - craft adversarial images with the **fast gradient sign method** (FGSM), untargeted and
#   targeted, using `tf.GradientTape` on the *input* instead of the weights;
# - plot accuracy against the perturbation budget $\varepsilon$ and look at the perturbed images;
# - compare with random noise of the same size: the direction matters, not the size;
# - attack with **PGD** (projected gradient descent, many small steps from a random start) and
#   see why a defence must be evaluated with a strong attack, not only with FGSM (**gradient
#   masking**);
# - train models on adversarial examples (**adversarial training**): the FGSM recipe of Goodfellow
#   et al. (2015) and the PGD recipe of Madry et al. (2018), and measure what each really recovers.

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
# `FAST = True` (tests, live demos) trains on 10,000 images for three epochs and attacks 500
# test images. The default is the full lesson. PGD adversarial training costs
# `PGD_TRAIN_STEPS + 1` forward-backward passes per batch instead of one, so it dominates the
# running time.

# %% tags=["parameters"]
FAST = False  # True: small data, short training (tests, live demos)
N_TRAIN = 60_000  # training images
N_TEST = 10_000  # test images attacked
EPOCHS = 5  # epochs of the standard and of each adversarially trained model
EPS = 0.1  # perturbation budget of the attacks and of adversarial training (pixels in [0, 1])
PGD_STEPS = 10  # steps of the PGD attack used for evaluation
PGD_TRAIN_STEPS = 5  # steps of the PGD attack inside PGD adversarial training

# %%
if FAST:
    N_TRAIN, N_TEST, EPOCHS, PGD_TRAIN_STEPS = 10_000, 500, 3, 3
print(f"FAST={FAST}: {N_TRAIN} training images, {EPOCHS} epochs, {N_TEST} attacked, eps={EPS}, "
      f"PGD with {PGD_STEPS} steps (training: {PGD_TRAIN_STEPS})")

# %% [markdown]
# ## 1. A classifier to attack
#
# Fashion-MNIST with the real loader (in Colab it downloads the files once; offline the course
# provisions them in Keras' cache), and a small convolutional network.

# %%
(x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
x_train = x_train[:N_TRAIN, ..., None].astype("float32") / 255.0
y_train = y_train[:N_TRAIN]
x_test = x_test[:N_TEST, ..., None].astype("float32") / 255.0
y_test = y_test[:N_TEST]


def make_model():
    model = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        keras.layers.Conv2D(16, 3, activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(32, 3, activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Flatten(),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(10),  # logits
    ])
    model.compile(optimizer="adam", metrics=["accuracy"],
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


keras.utils.set_random_seed(42)
model = make_model()
model.fit(x_train, y_train, epochs=EPOCHS, batch_size=64, verbose=2)
clean_accuracy = model.evaluate(x_test, y_test, verbose=0)[1]
print(f"clean test accuracy: {clean_accuracy:.3f}")

# %% [markdown]
# ## 2. The fast gradient sign method
#
# Training moves the **weights** against the gradient of the loss. An attacker keeps the weights
# and moves the **input** *along* the gradient, to increase the loss. Under the constraint that
# no pixel changes by more than $\varepsilon$ (an $L_\infty$ ball), the best first-order step is
# the sign of the gradient (Goodfellow, Shlens & Szegedy, 2015):
#
# $$x_{\text{adv}} = \mathrm{clip}_{[0,1]}\big(x + \varepsilon\,\mathrm{sign}(\nabla_x L(f(x), y))\big).$$
#
# Why does a tiny $\varepsilon$ suffice? For a linear score $w^\top x$, this step changes the score
# by $\varepsilon \lVert w \rVert_1$: it grows with the **number of pixels**. 784 pixels each
# nudged by 0.1 add up to a large push, even though no single pixel moved visibly.
#
# ### Exercise 1 — FGSM
#
# Write `fgsm(model, x, y, eps)`: compute the gradient of the cross-entropy loss (the model outputs
# **logits**) with respect to the images `x`, and return the perturbed images, clipped to
# $[0, 1]$, as a tensor of the same shape.

# %% nbgrader={"grade": false, "grade_id": "ex1_fgsm", "locked": false, "schema_version": 3, "solution": true, "task": false}
loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def fgsm(model, x, y, eps):
    """Untargeted FGSM: x + eps * sign(grad_x loss), clipped to [0, 1]."""
    x = tf.convert_to_tensor(x, dtype=tf.float32)
    ### BEGIN SOLUTION
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = loss_fn(y, model(x, training=False))
    grad = tape.gradient(loss, x)
    return tf.clip_by_value(x + eps * tf.sign(grad), 0.0, 1.0)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex1_fgsm_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
_x, _y = x_test[:64], y_test[:64]
_adv = np.asarray(fgsm(model, _x, _y, 0.05))
assert _adv.shape == _x.shape, f"same shape as the input, got {_adv.shape}"
assert np.max(np.abs(_adv - _x)) <= 0.05 + 1e-6, "no pixel may move by more than eps"
assert _adv.min() >= 0.0 and _adv.max() <= 1.0, "clip the images to [0, 1]"
### BEGIN HIDDEN TESTS
assert float(loss_fn(_y, model(_adv))) > float(loss_fn(_y, model(_x))), "the loss must go up"
_lin = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(2, use_bias=False)])
_lin.set_weights([np.array([[1.0, -1.0], [-2.0, 2.0]], dtype="float32")])
_p = np.array([[0.5, 0.5]], dtype="float32")
# class 0 score = x0 - 2 x1: increasing the loss for label 0 means lowering x0 and raising x1
np.testing.assert_allclose(np.asarray(fgsm(_lin, _p, np.array([0]), 0.1)), [[0.4, 0.6]], atol=1e-6)
np.testing.assert_allclose(np.asarray(fgsm(_lin, np.zeros((1, 2)), np.array([0]), 0.1)), [[0.0, 0.1]],
                           atol=1e-6)
### END HIDDEN TESTS

# %% [markdown]
# ## 3. Accuracy against the budget $\varepsilon$
#
# For each $\varepsilon$ we attack every test image and measure accuracy. As a control, we also
# add **random** signs of the same size, $x + \varepsilon \cdot \mathrm{sign}(\text{noise})$: same
# $L_\infty$ distance, random direction.

# %%
EPSILONS = [0.0, 0.01, 0.02, 0.05, 0.1, 0.15, 0.2]


def attacked_accuracy(model, eps, attack="fgsm", batch=500):
    """Accuracy on the N_TEST test images after the attack ("fgsm", "noise", or "pgd" of section 4)."""
    correct = 0
    rng = np.random.default_rng(0)
    for i in range(0, len(x_test), batch):
        x, y = x_test[i:i + batch], y_test[i:i + batch]
        if attack == "fgsm":
            x = fgsm(model, x, y, eps)
        elif attack == "pgd":
            x = pgd(model, x, y, eps)
        else:
            x = np.clip(x + eps * rng.choice([-1.0, 1.0], size=x.shape), 0, 1).astype("float32")
        correct += np.sum(np.argmax(model(x, training=False), axis=1) == y)
    return correct / len(x_test)


curve_fgsm = [attacked_accuracy(model, e) for e in EPSILONS]
curve_noise = [attacked_accuracy(model, e, attack="noise") for e in EPSILONS]
for e, a, n in zip(EPSILONS, curve_fgsm, curve_noise):
    print(f"eps={e:.2f}: FGSM accuracy {a:.3f} | random-sign noise {n:.3f}")

fig, ax = plt.subplots(figsize=(6, 3.8))
ax.plot(EPSILONS, curve_fgsm, marker="o", label="FGSM")
ax.plot(EPSILONS, curve_noise, marker="s", label="random signs, same size")
ax.axhline(0.1, color="k", ls="--", label="chance")
ax.set(title="Test accuracy under attack", xlabel=r"perturbation budget $\varepsilon$", ylabel="accuracy")
ax.legend()
plt.show()

# %% [markdown]
# Random noise of the same size barely matters; the **gradient direction** destroys the model.
# Here are some attacked images at $\varepsilon$ = `EPS`, with the model's prediction before and
# after, and the perturbation itself (grey = 0, dark = $-\varepsilon$, bright = $+\varepsilon$).

# %%
show = 6
x_show, y_show = x_test[:show], y_test[:show]
adv_show = fgsm(model, x_show, y_show, EPS).numpy()
pred_clean = np.argmax(model(x_show), axis=1)
pred_adv = np.argmax(model(adv_show), axis=1)
fig, axes = plt.subplots(3, show, figsize=(1.9 * show, 6.3))
for j in range(show):
    axes[0, j].imshow(x_show[j, ..., 0], cmap="gray_r", vmin=0, vmax=1)
    axes[0, j].set_title(f"clean: {CLASS_NAMES[pred_clean[j]]}", fontsize=8)
    axes[1, j].imshow(adv_show[j, ..., 0], cmap="gray_r", vmin=0, vmax=1)
    axes[1, j].set_title(f"attacked: {CLASS_NAMES[pred_adv[j]]}", fontsize=8,
                         color="red" if pred_adv[j] != y_show[j] else "black")
    axes[2, j].imshow(adv_show[j, ..., 0] - x_show[j, ..., 0], cmap="gray", vmin=-EPS, vmax=EPS)
    axes[2, j].set_title("perturbation", fontsize=8)
    for ax in axes[:, j]:
        ax.axis("off")
fig.suptitle(f"FGSM with eps = {EPS}: true labels {[CLASS_NAMES[c] for c in y_show[:3]]}...")
plt.tight_layout()
plt.show()

# %% [markdown]
# ### Exercise 2 — a targeted attack
#
# FGSM above pushes away from the true class, towards whatever class is nearest. A **targeted**
# attack chooses the class: step **down** the gradient of the loss computed with the *target*
# label $t$, so the model grows more confident in $t$:
#
# $$x_{\text{adv}} = \mathrm{clip}_{[0,1]}\big(x - \varepsilon\,\mathrm{sign}(\nabla_x L(f(x), t))\big).$$
#
# Write `targeted_fgsm(model, x, target, eps)` (`target`: one class id per image).

# %% nbgrader={"grade": false, "grade_id": "ex2_targeted_fgsm", "locked": false, "schema_version": 3, "solution": true, "task": false}
def targeted_fgsm(model, x, target, eps):
    """One signed gradient step towards class `target`, clipped to [0, 1]."""
    x = tf.convert_to_tensor(x, dtype=tf.float32)
    ### BEGIN SOLUTION
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = loss_fn(target, model(x, training=False))
    return tf.clip_by_value(x - eps * tf.sign(tape.gradient(loss, x)), 0.0, 1.0)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex2_targeted_fgsm_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
_target = np.full(64, 8)  # "Bag"
_adv_t = np.asarray(targeted_fgsm(model, x_test[:64], _target, 0.05))
assert _adv_t.shape == (64, 28, 28, 1)
assert np.max(np.abs(_adv_t - x_test[:64])) <= 0.05 + 1e-6 and _adv_t.min() >= 0 and _adv_t.max() <= 1
### BEGIN HIDDEN TESTS
_p_before = tf.nn.softmax(model(x_test[:64]))[:, 8].numpy()
_p_after = tf.nn.softmax(model(_adv_t))[:, 8].numpy()
assert np.mean(_p_after > _p_before) > 0.9, "the target class must become more probable"
_lin2 = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(2, use_bias=False)])
_lin2.set_weights([np.array([[1.0, -1.0], [-2.0, 2.0]], dtype="float32")])
np.testing.assert_allclose(np.asarray(targeted_fgsm(_lin2, np.array([[0.5, 0.5]]), np.array([0]), 0.1)),
                           [[0.6, 0.4]], atol=1e-6)
### END HIDDEN TESTS

# %%
target_class = 8  # make everything look like a "Bag"
hits = {}
for eps in [0.05, 0.1, 0.2]:
    adv = targeted_fgsm(model, x_test[:500], np.full(500, target_class), eps)
    hits[eps] = float(np.mean(np.argmax(model(adv), axis=1) == target_class))
    print(f"eps={eps:.2f}: {hits[eps]:.1%} of images now classified as {CLASS_NAMES[target_class]}"
          f" (before: {np.mean(np.argmax(model(x_test[:500]), axis=1) == target_class):.1%})")

# %% [markdown]
# One step is a weak targeted attack: the loss surface curves, and a single linear step of size
# $\varepsilon$ overshoots or points the wrong way. Iterating small steps is much stronger, which
# brings us to the attack every serious evaluation uses.
#
# ## 4. A stronger attack: projected gradient descent (PGD)
#
# FGSM assumes that the loss is linear inside the $\varepsilon$-ball, so that one step to its
# corner is the best move. It is not: networks are piecewise linear with many pieces, and the
# gradient at $x$ can be a poor guide to the loss a distance $\varepsilon$ away. **PGD** treats the
# attack as what it is, an optimisation problem: maximise the loss over the ball
# $\lVert \delta \rVert_\infty \le \varepsilon$. Following Madry et al. (2018):
#
# 1. start from a **random point** of the ball, $x^0 = x + \delta_0$ with $\delta_0$ uniform in
#    $[-\varepsilon, \varepsilon]$ per pixel;
# 2. take a signed gradient step of a small size $\alpha$ (an FGSM step),
#    $x^{k+1} = x^k + \alpha\,\mathrm{sign}(\nabla_x L(f(x^k), y))$;
# 3. **project** back: clip $x^{k+1}$ into $[x - \varepsilon, x + \varepsilon]$ (and into the valid
#    pixel range $[0, 1]$); repeat from step 2 for $K$ steps.
#
# The step size is chosen so that the $K$ steps together could travel the ball more than twice,
# $\alpha = 2.5\,\varepsilon / K$: the attack can reach any corner and still wander back. The
# random start matters: at the clean image the gradient can be tiny or misleading (we will see a
# model trained to make it so), while a random point nearby gives the attack an honest direction.
# Without the random start and with $\alpha = \varepsilon / K$, this is the *basic iterative method*
# of Kurakin, Goodfellow & Bengio (2017). Restarting PGD from several random points and keeping
# the worst case makes it stronger still; we use one start to keep the lesson fast.

# %%
def pgd(model, x, y, eps, steps=PGD_STEPS, alpha=None, random_start=True):
    """L-inf PGD (Madry et al., 2018): random start, `steps` FGSM steps of size alpha, projection."""
    alpha = alpha or 2.5 * eps / steps
    x0 = tf.convert_to_tensor(x, dtype=tf.float32)
    x_adv = x0
    if random_start:
        x_adv = tf.clip_by_value(x0 + tf.random.uniform(tf.shape(x0), -eps, eps), 0.0, 1.0)
    for _ in range(steps):
        x_adv = fgsm(model, x_adv, y, alpha)  # one signed gradient step (clipped to [0, 1])
        x_adv = tf.clip_by_value(x_adv, x0 - eps, x0 + eps)  # project back into the eps-ball
    return x_adv


tf.random.set_seed(1)
curve_pgd = [attacked_accuracy(model, e, "pgd") for e in EPSILONS]
for e, a, p in zip(EPSILONS, curve_fgsm, curve_pgd):
    print(f"eps={e:.2f}: standard model, FGSM accuracy {a:.3f} | PGD accuracy {p:.3f}")

# %% [markdown]
# On the undefended model PGD is at least as strong as FGSM at every budget, and the gap grows
# with $\varepsilon$: the larger the ball, the worse its linear approximation. At
# $\varepsilon = 0.2$ PGD leaves almost nothing correctly classified. The images that survive
# FGSM but not PGD were never robust: one step in the sign direction simply missed the nearby
# region where the model is wrong.
#
# ## 5. Two defences: adversarial training with FGSM and with PGD
#
# If the model is weak on adversarial inputs, train on them. The first recipe is the one
# Goodfellow, Shlens & Szegedy (2015) proposed together with FGSM: at every step, attack the
# batch with FGSM against the *current* weights and minimise a mix of the clean and the
# adversarial loss, $\alpha\, L(f_\theta(x), y) + (1 - \alpha)\, L(f_\theta(x_{\text{adv}}), y)$,
# with $\alpha = 0.5$ as in their paper, so clean accuracy does not collapse.
#
# Madry et al. (2018) later framed adversarial training as a **min-max** problem: minimise the
# loss at the **worst** point of the $\varepsilon$-ball around each input,
#
# $$\min_\theta \; \mathbb E_{(x,y)} \Big[ \max_{\lVert \delta \rVert_\infty \le \varepsilon} L(f_\theta(x + \delta), y) \Big],$$
#
# and solved the inner maximum with **PGD** from a random start, training on the adversarial
# examples only. The FGSM step is a one-step, cheaper and weaker approximation of that inner
# maximum; PGD costs `PGD_TRAIN_STEPS` extra gradient computations per batch. We train both, with
# the same architecture, data, epochs and $\varepsilon$, and compare them in section 6.

# %%
def make_adversarial_trainer(net, attack):
    """A compiled training step: attack the batch against the current weights, then descend."""
    optimizer = keras.optimizers.Adam()

    @tf.function
    def train_step(x, y):
        x_adv = tf.stop_gradient(attack(net, x, y))  # inner maximisation (weights fixed)
        with tf.GradientTape() as tape:  # outer minimisation
            if attack is fgsm_attack:  # Goodfellow et al. (2015): half clean, half adversarial
                loss = 0.5 * loss_fn(y, net(x, training=True)) + 0.5 * loss_fn(y, net(x_adv, training=True))
            else:  # Madry et al. (2018): adversarial examples only
                loss = loss_fn(y, net(x_adv, training=True))
        grads = tape.gradient(loss, net.trainable_variables)
        optimizer.apply_gradients(zip(grads, net.trainable_variables))
        return loss

    return train_step


def fgsm_attack(net, x, y):
    return fgsm(net, x, y, EPS)


def pgd_attack(net, x, y):
    return pgd(net, x, y, EPS, steps=PGD_TRAIN_STEPS)


dataset = tf.data.Dataset.from_tensor_slices((x_train, y_train)).shuffle(10_000, seed=0).batch(64)
defended = {}
for name, attack in [("FGSM-trained", fgsm_attack), ("PGD-trained", pgd_attack)]:
    keras.utils.set_random_seed(42)
    net = make_model()
    train_step = make_adversarial_trainer(net, attack)
    for _ in range(EPOCHS):
        losses = [float(train_step(x, y)) for x, y in dataset]
    clean = float(np.mean(np.argmax(net.predict(x_test, verbose=0), axis=1) == y_test))
    print(f"{name}: last epoch's training loss {np.mean(losses):.3f}, clean test accuracy {clean:.3f}")
    defended[name] = net

# %% [markdown]
# ## 6. Evaluating a defence: FGSM can make it look robust
#
# Now we attack all three models, the standard one and the two defended ones, with both FGSM and
# PGD over the same range of budgets.

# %%
models = {"standard": model, **defended}
tf.random.set_seed(2)
curves = {(name, attack): [attacked_accuracy(m, e, attack) for e in EPSILONS]
          for name, m in models.items() for attack in ("fgsm", "pgd")}
at_eps = {key: curve[EPSILONS.index(EPS)] for key, curve in curves.items()}
clean_acc = {name: curve[0] for (name, attack), curve in curves.items() if attack == "fgsm"}
for name in models:
    print(f"{name:>13}: clean {clean_acc[name]:.3f} | at eps={EPS}: FGSM {at_eps[name, 'fgsm']:.3f}, "
          f"PGD {at_eps[name, 'pgd']:.3f}")

fig, axes = plt.subplots(1, 2, figsize=(12, 4))
for (name, attack), curve in curves.items():
    color = {"standard": "C0", "FGSM-trained": "C1", "PGD-trained": "C2"}[name]
    axes[0].plot(EPSILONS, curve, color=color, ls="-" if attack == "pgd" else "--",
                 marker="o" if attack == "pgd" else "s", label=f"{name}, {attack.upper()}")
axes[0].axvline(EPS, color="grey", ls=":", label="training eps")
axes[0].axhline(0.1, color="k", lw=0.8, label="chance")
axes[0].set(title="Accuracy against the budget: FGSM (dashed) and PGD (solid)",
            xlabel=r"perturbation budget $\varepsilon$", ylabel="test accuracy")
axes[0].legend(fontsize=7)
labels = ["clean", "FGSM", "PGD"]
for k, name in enumerate(models):
    axes[1].bar(np.arange(3) + (k - 1) * 0.27, [clean_acc[name], at_eps[name, "fgsm"], at_eps[name, "pgd"]],
                0.27, label=name)
axes[1].set_xticks(range(3), labels)
axes[1].set(title=f"Accuracy at eps = {EPS}", xlabel="test inputs", ylabel="accuracy", ylim=(0, 1))
axes[1].legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# Read the figure along two directions. **Across models**, both defences lift the curves far above
# the standard model's, at the price of some clean accuracy (the leftmost points): robustness is
# not free, because the model must now ignore features that were genuinely predictive but fragile.
# **Across attacks**, compare each dashed line with the solid line of the same colour. For the
# standard model, PGD is clearly stronger than FGSM. For the FGSM-trained model the gap is also
# large: in our FAST run it scored 0.63 under FGSM but 0.53 under PGD at $\varepsilon = 0.1$, so an
# evaluation with FGSM alone overstated its robustness by ten points. For the PGD-trained model
# the two attacks nearly agree (0.65 and 0.61): the attack it was trained against is already
# close to the strongest we have, so the one-step attack has little left to hide. Under the
# attack that matters, PGD, the PGD-trained model is the most robust of the three, although its
# clean accuracy is the lowest (0.77 against 0.81 and 0.84).
#
# Our FGSM-trained model still keeps real robustness, because the network is small, the budget
# moderate and the training short. With larger budgets, bigger networks or longer training, FGSM
# training is known to fail abruptly: within an epoch the accuracy under PGD drops to nearly zero
# while the accuracy under FGSM stays high, or even rises above the clean accuracy. Wong, Rice &
# Kolter (2020) called this *catastrophic overfitting* and showed that a random start before the
# FGSM step (and early stopping on a PGD evaluation) largely prevents it.
#
# ### Gradient masking
#
# Why can a model trained against FGSM look robust to FGSM and not be? FGSM only reads the
# gradient *at the clean image*. Training against FGSM rewards any change of the network that
# makes that single step useless, and there are two ways to achieve it: become genuinely robust
# (the loss stays low everywhere in the ball), or bend the loss surface so that the gradient at
# $x$ points in a useless direction while high-loss points remain a few steps away. The second is
# much cheaper for the network to learn. Tramèr et al. (2018) showed that FGSM-trained ImageNet
# models do exactly this: the loss curves sharply near the data points, so a single step from a
# small random offset, or an attack transferred from another model, beats the white-box FGSM
# step. This is **gradient masking**: the model does not remove adversarial examples, it hides
# them from gradient-based attacks that look too locally.
#
# Athalye, Carlini & Wagner (2018) found the same illusion across many published defences, under
# the name **obfuscated gradients**: shattered gradients (non-differentiable or numerically
# unstable operations, such as input quantisation), stochastic gradients (random transformations
# of the input), and vanishing or exploding gradients (very deep computations, such as an
# iterative purification step). Of the nine defences from ICLR 2018 they examined, seven relied on
# obfuscated gradients; attacks adapted to each defence circumvented six of them completely and
# one partially. Their warning signs are worth memorising, because each one can be checked in a
# few lines:
#
# - a one-step attack (FGSM) does as well as or better than an iterative one (PGD);
# - attacks that do not use the model's gradient (transfer from another model, random search) do
#   better than white-box gradient attacks;
# - accuracy does not reach zero (or chance) as $\varepsilon$ grows large, although a large enough
#   perturbation can turn any image into any other;
# - random noise of the same size hurts more than the "optimal" attack.
#
# A Madry-style defence survives these checks better because its training attack is itself a
# strong optimiser from a random start: gradient masking at the clean image does not help
# against an attack that does not start there.
#
# ### Exercise 3 (conceptual) — reading an evaluation
#
# A paper proposes a defence for Fashion-MNIST and reports, at $\varepsilon = 0.1$: clean accuracy
# 0.86, FGSM accuracy 0.80, PGD (40 steps, random start) accuracy 0.05, and accuracy 0.70 under
# FGSM examples *transferred* from an undefended model. Which conclusion is best supported?
#
# - **a.** The defence is robust: 0.80 under the standard attack is far above the undefended 0.1.
# - **b.** The defence mostly masks gradients: on a genuinely robust model neither a 40-step
#   attack nor an attack transferred from another model would do so much better than the
#   one-step white-box attack, and PGD shows almost no robustness.
# - **c.** PGD is broken for this model, because a 40-step attack should never be stronger than a
#   one-step one; the FGSM number is the trustworthy one.
# - **d.** The defence overfits to $\varepsilon = 0.1$; it would be robust at a smaller budget.
#
# Set `ANSWER` to the letter.

# %% nbgrader={"grade": false, "grade_id": "concept_gradient_masking", "locked": false, "schema_version": 3, "solution": true, "task": false}
ANSWER = None  # one of "a", "b", "c", "d"
### BEGIN SOLUTION
ANSWER = "b"
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "concept_gradient_masking_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
assert ANSWER in {"a", "b", "c", "d"}, "ANSWER is one letter, a to d"
### BEGIN HIDDEN TESTS
assert ANSWER == "b", "PGD at 0.05 is the robustness; FGSM at 0.80 is an artefact of masked gradients"
### END HIDDEN TESTS

# %% [markdown]
# ## Common pitfalls
#
# - **Evaluating a defence with the attack it was trained on.** A model trained against FGSM and
#   tested with FGSM measures how well it learned to defeat *that attack*, not robustness. Always
#   report a strong iterative attack (PGD with a random start, several restarts), and ideally an
#   attack adapted to the defence.
# - **Forgetting the projection or the clipping.** PGD without the projection onto the
#   $\varepsilon$-ball quietly attacks with a budget of $K\alpha$ instead of $\varepsilon$; without the
#   clip to $[0, 1]$ it produces images that are not valid inputs. Check
#   `np.abs(x_adv - x).max() <= eps` and the pixel range on every attack you write.
# - **Attacking in the wrong units.** $\varepsilon = 0.1$ means 10 % of the pixel range only if the
#   pixels are in $[0, 1]$. If the model normalises its inputs (mean/std), put the normalisation
#   inside the model and attack the raw pixels, or the budget means something else.
# - **Taking the gradient of the wrong loss.** The model outputs logits here; computing the loss
#   with `from_logits=False` on logits, or on a softmax that saturates at 0 and 1, gives zero or
#   meaningless gradients, which looks exactly like robustness.
# - **Attacking in training mode.** Dropout or batch normalisation in training mode make the
#   gradient random or batch-dependent; attack the model with `training=False`, as it is deployed.
# - **Reading robust accuracy at one $\varepsilon$ as a property of the model.** Plot the whole
#   curve. A defence can be tuned to one budget and one norm ($L_\infty$ here); robustness to
#   $L_2$ perturbations, rotations or other changes is a separate question.
# - **Comparing numbers on different test subsets.** The PGD numbers depend on the random start
#   and on which images are attacked; compare models on the same images, with the same attack
#   settings.
#
# ## What we reached
#
# The check measures what the issue of gradient masking asks for: robustness under the strong
# attack. The metric is the PGD accuracy (at $\varepsilon$ = `EPS`, 10 steps, random start) of the
# PGD-trained model minus that of the standard model; it must be at least 0.2 in FAST mode and 0.3
# in the full lesson. A defence that only masked gradients would fail it, however good its FGSM
# numbers. After the RESULT line come two sanity checks: FGSM must cut the standard model's
# accuracy sharply (by at least 0.4), and for every model PGD must be at least as strong as FGSM
# (up to 0.02 of sampling noise). If PGD were ever weaker, the attack code, not the model, would
# be the first suspect. In our FAST run the gain was +0.44 (PGD accuracy 0.16 -> 0.61).
#
# Recorded by `benchmarks/notebooks.py` for `pgd_accuracy_gain_from_pgd_adversarial_training`: FAST mode 0.442 (target ≥ 0.2, 66 s, 2026-11-23); full lesson 0.67 (target ≥ 0.3, 976 s, 2026-11-23).
#
# ## Further reading
#
# - Szegedy et al. (2014), *Intriguing properties of neural networks*, ICLR: the discovery of
#   adversarial examples.
# - Goodfellow, Shlens & Szegedy (2015), *Explaining and Harnessing Adversarial Examples*, ICLR:
#   the linearity explanation, FGSM and FGSM adversarial training.
# - Kurakin, Goodfellow & Bengio (2017), *Adversarial Examples in the Physical World*, ICLR
#   workshop: the basic iterative method.
# - Madry et al. (2018), *Towards Deep Learning Models Resistant to Adversarial Attacks*, ICLR: the
#   min-max formulation, PGD with random starts, PGD adversarial training.
# - Tramèr et al. (2018), *Ensemble Adversarial Training: Attacks and Defenses*, ICLR: gradient
#   masking in FGSM-trained models.
# - Wong, Rice & Kolter (2020), *Fast is Better than Free: Revisiting Adversarial Training*, ICLR:
#   FGSM training with a random start, and catastrophic overfitting.
# - Athalye, Carlini & Wagner (2018), *Obfuscated Gradients Give a False Sense of Security*, ICML:
#   how defences that mask gradients are broken, and how to evaluate a defence.
# - Goodfellow, Bengio & Courville (2016), *Deep Learning*, MIT Press, chapter 7, section 7.13
#   (adversarial training).

# %% tags=["check"]
gain = at_eps["PGD-trained", "pgd"] - at_eps["standard", "pgd"]
RESULT = {"metric": "pgd_accuracy_gain_from_pgd_adversarial_training", "value": round(float(gain), 4),
          "target": 0.2 if FAST else 0.3}
print(RESULT)
assert RESULT["value"] >= RESULT["target"], f"gain {RESULT['value']} below {RESULT['target']}"
assert clean_acc["standard"] - at_eps["standard", "fgsm"] >= 0.4, "FGSM should cut the standard model sharply"
for name in models:  # sanity: the stronger attack is at least as strong (small slack for sampling noise)
    assert at_eps[name, "pgd"] <= at_eps[name, "fgsm"] + 0.02, f"{name}: PGD weaker than FGSM?"
