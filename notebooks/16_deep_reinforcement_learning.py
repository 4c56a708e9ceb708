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
# # 16 · Deep reinforcement learning
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/dl-course-kit/dl-course-kit/blob/main/notebooks/16_deep_reinforcement_learning.ipynb)
#
# So far every model learnt from a data set with the right answers. In **reinforcement learning**
# nobody gives the right answer: an **agent** acts in an **environment**, receives **rewards**,
# and must discover which actions lead, sometimes much later, to high total reward. This lesson
# builds the two families of methods that deep RL grew from, on two small environments: first
# the exact theory (Markov decision processes and the Bellman equations) on a grid world where we
# can solve everything, then **Q-learning**, its deep version **DQN**, and the **policy
# gradient** (REINFORCE) on a control task where a neural network has to do the work.
#
# ## Learning goals
#
# - name the pieces of a **Markov decision process**: states, actions, transition probabilities,
#   rewards, discount, policy, **discounted return**;
# - write the **Bellman expectation and optimality equations** and solve FrozenLake exactly with
#   policy evaluation and **value iteration**;
# - implement **tabular Q-learning** with an epsilon-greedy policy and compare its result with the
#   exact optimum and a random policy;
# - build **DQN** in Keras (replay buffer, target network, Huber loss) and **REINFORCE** with a
#   learnt baseline, train both on CartPole with the same episode budget, and read their learning
#   curves.

# %% [markdown]
# ## Setup
#
# This cell works in Colab and locally. Colab does not always ship `gymnasium`: the cell installs
# it only if it is missing. It prints the versions and fixes the random seeds.

# %%
import os
import subprocess
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # hide TensorFlow's start-up chatter

try:
    import gymnasium as gym
except ImportError:  # Colab without gymnasium: install it once (needs the network)
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "gymnasium"])
    import gymnasium as gym
import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf

IN_COLAB = "google.colab" in sys.modules
print(f"Python {sys.version.split()[0]} | TensorFlow {tf.__version__} | Keras {keras.__version__}"
      f" | gymnasium {gym.__version__} | Colab: {IN_COLAB}")
keras.utils.set_random_seed(42)  # seeds Python, NumPy and TensorFlow at once

# %% [markdown]
# ## Parameters
#
# `FAST = True` (tests, live demos) runs fewer Q-learning episodes and gives each CartPole agent a
# budget of 200 episodes; the full lesson trains longer. Both CartPole agents always get the
# **same number of episodes**, so their learning curves can be compared.

# %% tags=["parameters"]
FAST = False  # True: short training (tests, live demos)
GAMMA = 0.99  # discount factor, for both environments
# FrozenLake (tabular)
Q_EPISODES = 20_000  # Q-learning episodes
Q_ALPHA = 0.1  # Q-learning step size
LAKE_EVAL_EPISODES = 1000  # episodes to measure a policy's success rate
# CartPole (deep RL)
CARTPOLE_EPISODES = 600  # episode budget of each agent (DQN and REINFORCE)
EVAL_EPISODES = 20  # greedy evaluation episodes per agent
DQN_LEARNING_RATE = 5e-4
BATCH_SIZE = 64  # transitions per DQN gradient step
BUFFER_SIZE = 100_000  # replay buffer capacity (transitions)
TARGET_UPDATE_EVERY = 200  # environment steps between target-network copies
EPSILON_DECAY_STEPS = 3000  # epsilon goes from 1 to 0.05 over these many steps
LEARNING_STARTS = 1000  # steps of experience collected before the first gradient step
PG_LEARNING_RATE = 0.01  # REINFORCE (policy and baseline)
EPISODES_PER_UPDATE = 8  # REINFORCE episodes per policy update
VALIDATE_EVERY = 24  # training episodes between two greedy validations (best weights kept)

# %%
if FAST:
    Q_EPISODES, LAKE_EVAL_EPISODES, CARTPOLE_EPISODES = 3000, 500, 200
print(f"FAST={FAST}: {Q_EPISODES} Q-learning episodes, {CARTPOLE_EPISODES} CartPole episodes per agent,"
      f" gamma={GAMMA}")
rng = np.random.default_rng(0)  # every random choice of the agents below draws from this

# %% [markdown]
# ## 1. Markov decision processes
#
# At each time step $t$ the agent observes a **state** $s_t$, chooses an **action** $a_t$, and
# the environment answers with a **reward** $r_t$ and the next state $s_{t+1}$. An **episode**
# runs until a terminal state (or a time limit). The environment is a **Markov decision process**
# (MDP) when the next state and reward depend only on the current state and action, through fixed
# probabilities $p(s', r \mid s, a)$: the past adds nothing once you know $s_t$. The agent's
# behaviour is a **policy** $\pi(a \mid s)$, the probability of each action in each state. The
# agent wants to maximise the **discounted return**
#
# $$G_t = r_t + \gamma r_{t+1} + \gamma^2 r_{t+2} + \dots = \sum_{k \ge 0} \gamma^k r_{t+k},
#   \qquad 0 \le \gamma \le 1 ,$$
#
# where $\gamma$ says how much a reward later is worth compared with one now ($\gamma = 0.99$:
# a reward 100 steps away counts for $0.99^{100} \approx 0.37$). Discounting keeps the sum finite
# in endless tasks and expresses a preference for reaching rewards sooner. Note the recursion
# $G_t = r_t + \gamma G_{t+1}$: everything in this lesson is built on it.
#
# Two functions summarise how good a policy is. The **state value** $V^\pi(s) = \mathbb E_\pi[G_t
# \mid s_t = s]$ is the expected return when starting in $s$ and following $\pi$; the **action
# value** $Q^\pi(s, a) = \mathbb E_\pi[G_t \mid s_t = s, a_t = a]$ is the expected return when
# taking $a$ first and following $\pi$ afterwards. If we knew the optimal action values $Q^*$,
# acting optimally would be trivial: in every state pick $\arg\max_a Q^*(s, a)$.
#
# ### Exercise 1 — discounted returns
#
# Write `discounted_returns(rewards, gamma)`: for the rewards $r_0..r_{T-1}$ of one episode, return
# the array $G_0..G_{T-1}$ (float32). Use the recursion $G_t = r_t + \gamma G_{t+1}$ from the end
# of the episode backwards (one pass, not a double loop).

# %% nbgrader={"grade": false, "grade_id": "ex1_discounted_returns", "locked": false, "schema_version": 3, "solution": true, "task": false}
def discounted_returns(rewards, gamma):
    """G_t = sum_k gamma^k r_{t+k} for every t of one episode."""
    rewards = np.asarray(rewards, dtype="float32")
    ### BEGIN SOLUTION
    returns = np.zeros_like(rewards)
    running = 0.0
    for t in reversed(range(len(rewards))):
        running = rewards[t] + gamma * running
        returns[t] = running
    return returns
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex1_discounted_returns_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
np.testing.assert_allclose(discounted_returns([1.0, 1.0, 1.0], 0.5), [1.75, 1.5, 1.0])
### BEGIN HIDDEN TESTS
np.testing.assert_allclose(discounted_returns([0.0, 0.0, 2.0], 0.9), [1.62, 1.8, 2.0], rtol=1e-6)
np.testing.assert_allclose(discounted_returns(np.ones(5), 1.0), [5, 4, 3, 2, 1])
_r = np.random.default_rng(0).normal(size=30)
_brute = [sum(0.95**k * _r[t + k] for k in range(30 - t)) for t in range(30)]
np.testing.assert_allclose(discounted_returns(_r, 0.95), _brute, rtol=1e-4, atol=1e-5)
assert len(discounted_returns([], 0.9)) == 0
### END HIDDEN TESTS

# %% [markdown]
# ## 2. The Bellman equations, solved exactly on FrozenLake
#
# **FrozenLake-v1** is a 4 × 4 grid: start `S` in the top-left corner, goal `G` in the bottom-right,
# frozen tiles `F` and holes `H`. The 16 tiles are the states, the actions are left (0), down (1),
# right (2) and up (3). The ice is **slippery**: the agent moves in the intended direction with
# probability 1/3 and in each of the two perpendicular directions with probability 1/3 (walls
# keep it in place). Reaching the goal gives reward 1 and ends the episode; falling into a hole
# ends it with reward 0; episodes are cut after 100 steps. Every reward before the end is 0, so
# the undiscounted return of an episode is simply "did it reach the goal".
#
# Unlike most environments, FrozenLake exposes its full model: `env.unwrapped.P[s][a]` is the list
# of `(probability, next_state, reward, terminated)` outcomes of action $a$ in state $s$. With the
# model we can compute values exactly, without playing a single episode.
#
# **The Bellman expectation equation.** Expand one step of the recursion $G_t = r_t + \gamma
# G_{t+1}$ inside the expectation:
#
# $$V^\pi(s) = \sum_a \pi(a \mid s) \sum_{s', r} p(s', r \mid s, a)\,\big[r + \gamma V^\pi(s')\big].$$
#
# The value of a state is the expected immediate reward plus the discounted value of where you
# land. For a fixed policy these are $|S|$ **linear** equations in the $|S|$ unknowns $V^\pi(s)$, so
# we can solve them directly with `np.linalg.solve`: that is **policy evaluation**.
#
# **The Bellman optimality equation.** The best policy picks the best action instead of averaging
# over $\pi$:
#
# $$V^*(s) = \max_a \sum_{s', r} p(s', r \mid s, a)\,\big[r + \gamma V^*(s')\big], \qquad
#   Q^*(s, a) = \sum_{s', r} p(s', r \mid s, a)\,\big[r + \gamma \max_{a'} Q^*(s', a')\big].$$
#
# The max makes it nonlinear, but applying its right-hand side as an update, again and again,
# converges to $V^*$ from any starting guess, because each sweep shrinks the largest error by at
# least a factor $\gamma$ (the update is a contraction). That is **value iteration** (Bellman,
# 1957). A terminal state has value 0: nothing more can be earned after it, which is why the code
# multiplies by `not terminated`.

# %%
lake = gym.make("FrozenLake-v1")  # 4x4, slippery, 100-step limit: the defaults
P = lake.unwrapped.P
n_states, n_actions = lake.observation_space.n, lake.action_space.n
grid = lake.unwrapped.desc.astype(str)
print("\n".join(" ".join(row) for row in grid))
print("P[14][2] (right, next to the goal):", P[14][2])


def expected_backup(V, gamma):
    """Q(s, a) = sum over outcomes of p * (r + gamma * V(s')), for every s and a."""
    Q = np.zeros((n_states, n_actions))
    for s in range(n_states):
        for a in range(n_actions):
            Q[s, a] = sum(p * (r + gamma * V[s2] * (not done)) for p, s2, r, done in P[s][a])
    return Q


def value_iteration(gamma, tol=1e-10):
    V = np.zeros(n_states)
    for sweep in range(1, 10_000):
        Q = expected_backup(V, gamma)
        V_new = Q.max(axis=1)  # the Bellman optimality update
        if np.max(np.abs(V_new - V)) < tol:
            return V_new, Q, sweep
        V = V_new
    raise RuntimeError("value iteration did not converge")


def evaluate_policy(pi, gamma):
    """Solve the Bellman expectation equations V = r_pi + gamma P_pi V for a policy pi[s, a]."""
    P_pi, r_pi = np.zeros((n_states, n_states)), np.zeros(n_states)
    for s in range(n_states):
        for a in range(n_actions):
            for p, s2, r, done in P[s][a]:
                r_pi[s] += pi[s, a] * p * r
                if not done:
                    P_pi[s, s2] += pi[s, a] * p
    return np.linalg.solve(np.eye(n_states) - gamma * P_pi, r_pi)


V_star, Q_star, sweeps = value_iteration(GAMMA)
optimal_policy = Q_star.argmax(axis=1)
V_random = evaluate_policy(np.full((n_states, n_actions), 1 / n_actions), GAMMA)
print(f"value iteration converged in {sweeps} sweeps")
print(f"V*(start) = {V_star[0]:.3f} | V of the uniformly random policy at the start = {V_random[0]:.4f}")

# %% [markdown]
# Values are discounted returns, not success rates. To compare policies in the units a person
# cares about, we also **play** each policy on the same 100-step episodes (the same seeds, so the
# same slips) and count how often it reaches the goal.

# %%
def success_rate(act, episodes, seed=10_000):
    """Fraction of episodes in which the policy act(state) -> action reaches the goal."""
    wins = 0.0
    for i in range(episodes):
        state, _ = lake.reset(seed=seed + i)
        while True:
            state, reward, terminated, truncated, _ = lake.step(act(state))
            if terminated or truncated:
                wins += reward
                break
    return wins / episodes


optimal_success = success_rate(lambda s: int(optimal_policy[s]), LAKE_EVAL_EPISODES)
random_success = success_rate(lambda s: int(rng.integers(n_actions)), LAKE_EVAL_EPISODES)
print(f"success rate over {LAKE_EVAL_EPISODES} episodes: optimal policy {optimal_success:.3f}"
      f" | random policy {random_success:.3f}")

# %% [markdown]
# Expect the optimal policy to reach the goal in about three episodes out of four (0.73 in our
# runs) and the random policy in fewer than one in fifty. Even the optimal policy fails a quarter
# of the time: on slippery ice some risk cannot be avoided. The map of $V^*$ below shows where the
# danger is, and its arrows hold a surprise: in the start state the optimal action is **left**,
# into the wall. Pushing into the wall, the agent either stays put or slips down onto the
# left-hand route, never right along the top row, which is worth less (compare the values of the
# two neighbours). Next to a hole, the best action is often the one whose perpendicular slips
# point away from it: in the tile above the bottom-left hole the agent pushes *up*, because then
# the ice can only carry it sideways, never down into the hole. Nobody would guess this policy;
# the Bellman equation finds it.

# %%
ARROWS = ["←", "↓", "→", "↑"]  # FrozenLake's actions 0..3


def draw_lake(ax, values, title, policy=None):
    """Heat map of state values; with a policy, its action is drawn on every frozen tile."""
    image = ax.imshow(values.reshape(grid.shape), cmap="viridis", vmin=0, vmax=1)
    for (row, col), tile in np.ndenumerate(grid):
        s = row * grid.shape[1] + col
        label = f"{values[s]:.2f}" if policy is None else f"{ARROWS[policy[s]]}\n{values[s]:.2f}"
        ax.text(col, row, tile if tile in "HG" else label, ha="center", va="center", fontsize=10,
                color="white" if values[s] < 0.5 else "black")
    ax.set_title(title, fontsize=10)
    ax.axis("off")
    return image


fig, axes = plt.subplots(1, 2, figsize=(9, 4.3))
draw_lake(axes[0], V_random, "uniformly random policy: $V^\\pi$")
image = draw_lake(axes[1], V_star, "optimal: $V^*$ and its greedy action", optimal_policy)
fig.colorbar(image, ax=axes, shrink=0.8, label="state value (discounted return)")
fig.suptitle(f"FrozenLake 4x4 (slippery), gamma = {GAMMA}: policy evaluation vs value iteration")
plt.show()

# %% [markdown]
# The left map is the Bellman *expectation* equation at work: a random walker is worth almost
# nothing anywhere except right next to the goal. The right map is the *optimality* equation:
# values grow towards the goal, and the rest of the top row is worth less than the start because
# from there the safe route is longer and passes close to the holes.
#
# ### Conceptual question — a Bellman backup by hand
#
# A deterministic corridor has three states `A → B → C`. In `A` and `B` the agent can move *right*
# (to the next state) or *stay*. Entering `C` gives reward $+1$ and ends the episode; every other
# transition gives 0. With $\gamma = 0.9$, what is $V^*(A)$? Reason with the Bellman optimality
# equation, starting from the state next to the end, and assign the number to `V_STAR_A`.

# %% nbgrader={"grade": false, "grade_id": "concept_bellman_backup", "locked": false, "schema_version": 3, "solution": true, "task": false}
V_STAR_A = None  # a number
### BEGIN SOLUTION
V_STAR_A = 0.9  # V*(B) = 1 (the step into C); V*(A) = 0 + 0.9 * V*(B); staying only delays the reward
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "concept_bellman_backup_test", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
assert isinstance(V_STAR_A, (int, float)), "V_STAR_A must be a number"
### BEGIN HIDDEN TESTS
assert abs(V_STAR_A - 0.9) < 1e-6
### END HIDDEN TESTS

# %% [markdown]
# ## 3. Tabular Q-learning: learning without the model
#
# Value iteration needed `P`, the rules of the game. Real environments do not hand them out: the
# agent only sees what happens when it acts. **Q-learning** (Watkins, 1989; convergence proof by
# Watkins & Dayan, 1992) estimates $Q^*$ from sampled transitions $(s, a, r, s')$ alone. It keeps a
# table `Q[s, a]` and, after every step, nudges the entry it just used towards a one-sample
# estimate of the right-hand side of the optimality equation:
#
# $$Q(s, a) \leftarrow Q(s, a) + \alpha\,\big[\underbrace{r + \gamma \max_{a'} Q(s', a')}_{\text{TD
#   target}} - Q(s, a)\big].$$
#
# The bracket is the **temporal-difference (TD) error**: how much better or worse the step turned
# out than the table predicted. The expectation over $s'$ that value iteration computed with `P` is
# replaced by averaging over many visits, with step size $\alpha$. The target uses the agent's own
# estimate of the next state's value: this is **bootstrapping**, learning a guess from a guess, and
# it lets Q-learning learn from every single step instead of waiting for the end of the episode.
# If $s'$ is terminal, there is no future: the target is just $r$.
#
# To learn about every action the agent must try them, so it acts **epsilon-greedily**: with
# probability $\varepsilon$ a random action (explore), otherwise the best action according to the
# current table (exploit). We start at $\varepsilon = 1$ and lower it linearly to 0.05 over the first
# half of training. Note that the target uses $\max_{a'}$, the value of the greedy policy, whatever
# the agent does next: Q-learning is **off-policy**, it learns about the greedy policy while
# following an exploratory one. That is also what will let DQN learn from old, stored experience.
#
# ### Exercise 2 — the Q-learning update
#
# Write `q_learning_update(Q, s, a, r, s_next, terminated, alpha, gamma)`: update `Q[s, a]` **in
# place** with the rule above (the target is just `r` when `terminated`) and return the TD error
# (the bracket, computed before the update).

# %% nbgrader={"grade": false, "grade_id": "ex2_q_learning_update", "locked": false, "schema_version": 3, "solution": true, "task": false}
def q_learning_update(Q, s, a, r, s_next, terminated, alpha, gamma):
    """One Q-learning step on the table Q (modified in place); returns the TD error."""
    ### BEGIN SOLUTION
    target = r if terminated else r + gamma * np.max(Q[s_next])
    td_error = target - Q[s, a]
    Q[s, a] += alpha * td_error
    return td_error
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex2_q_learning_update_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
_Q = np.zeros((3, 2))
_Q[1] = [0.5, 2.0]
_td = q_learning_update(_Q, 0, 1, 1.0, 1, False, 0.5, 0.9)
np.testing.assert_allclose(_td, 1.0 + 0.9 * 2.0)
np.testing.assert_allclose(_Q[0, 1], 0.5 * 2.8)
### BEGIN HIDDEN TESTS
_Q = np.array([[0.3, 0.1], [4.0, 5.0], [0.0, 0.0]])
_td = q_learning_update(_Q, 0, 0, 1.0, 1, True, 0.1, 0.9)  # terminal: no bootstrap
np.testing.assert_allclose(_td, 0.7)
np.testing.assert_allclose(_Q, [[0.37, 0.1], [4.0, 5.0], [0.0, 0.0]])
_td = q_learning_update(_Q, 2, 1, 0.0, 1, False, 1.0, 0.5)  # the max, not the action taken
np.testing.assert_allclose(_Q[2, 1], 2.5)
np.testing.assert_allclose(_td, 2.5)
### END HIDDEN TESTS

# %% [markdown]
# The training loop plays `Q_EPISODES` episodes on the real environment (no `P` anywhere) and
# records whether each one reached the goal. When several actions tie for the best value (at the
# start, all of them are 0), the agent picks one of them at random, otherwise it would always try
# "left" first and explore poorly.

# %%
Q_table = np.zeros((n_states, n_actions))
lake_wins = np.zeros(Q_EPISODES)
start = time.perf_counter()
state, _ = lake.reset(seed=0)
for episode in range(Q_EPISODES):
    epsilon = max(0.05, 1.0 - 0.95 * episode / (0.5 * Q_EPISODES))
    state, _ = lake.reset()
    while True:
        if rng.random() < epsilon:
            action = int(rng.integers(n_actions))
        else:
            best = np.flatnonzero(Q_table[state] == Q_table[state].max())
            action = int(rng.choice(best))
        next_state, reward, terminated, truncated, _ = lake.step(action)
        q_learning_update(Q_table, state, action, reward, next_state, terminated, Q_ALPHA, GAMMA)
        state = next_state
        if terminated or truncated:  # a truncated episode still bootstraps: the tile is not terminal
            lake_wins[episode] = reward
            break
q_policy = Q_table.argmax(axis=1)
q_success = success_rate(lambda s: int(q_policy[s]), LAKE_EVAL_EPISODES)
print(f"Q-learning: {Q_EPISODES} episodes in {time.perf_counter() - start:.1f} s")
print(f"greedy success rate: Q-learning {q_success:.3f} | optimal {optimal_success:.3f}"
      f" | random {random_success:.3f}")
print(f"largest |Q - Q*| = {np.abs(Q_table - Q_star).max():.3f};"
      f" same greedy action as the optimum in {np.mean(q_policy == optimal_policy):.0%} of the tiles")

# %%
window = max(50, Q_EPISODES // 50)
moving = np.convolve(lake_wins, np.ones(window) / window, mode="valid")
fig, axes = plt.subplots(1, 2, figsize=(11.5, 4), gridspec_kw={"width_ratios": [1.4, 1]})
axes[0].plot(np.arange(window, Q_EPISODES + 1), moving, label="Q-learning (epsilon-greedy, training)")
axes[0].axhline(optimal_success, color="tab:green", ls="--", label="optimal policy (value iteration)")
axes[0].axhline(random_success, color="k", ls=":", label="random policy")
axes[0].set(title=f"Q-learning on FrozenLake: success rate, moving average over {window} episodes",
            xlabel="episode", ylabel="fraction of episodes reaching the goal")
axes[0].title.set_fontsize(10)
axes[0].legend(fontsize=8)
draw_lake(axes[1], Q_table.max(axis=1), "learnt: $\\max_a Q(s, a)$ and greedy action", q_policy)
plt.tight_layout()
plt.show()

# %% [markdown]
# Read the curve in two phases. While $\varepsilon$ is large, the training success rate stays low
# *even if the table is already good*, because most actions are random: a training curve measures
# the behaviour policy, exploration included. Once $\varepsilon$ reaches its floor the curve levels
# off (around 0.5 in the full lesson), well below the optimum: an episode lasts dozens of steps,
# so a 5 % chance of a random action per step means a random move or two per episode, and next to
# a hole one is enough. The greedy policy, evaluated without exploration on the same episodes as
# the optimum, should match it closely: expect a success rate within a few points of the value-iteration optimum (0.716
# against 0.732 in our FAST run, 0.729 for both in the full lesson), some fifty times the random
# policy's. The learnt values on the right are close to $V^*$ but not equal:
# with a constant step size $\alpha$ the estimates keep fluctuating around their targets, and tiles
# the greedy policy rarely visits are estimated from fewer samples. A greedy action may also differ
# from value iteration's where two actions are (nearly) tied, as in the tile between the two holes
# of the second row, where left and right are mirror images; an exact tie costs nothing.

# %% [markdown]
# ## 4. CartPole: too many states for a table
#
# **CartPole-v1**: a pole is hinged on a cart; the state is 4 real numbers (cart position and
# velocity, pole angle and angular velocity); the actions are *push left* (0) and *push right* (1).
# Each step the pole stays up earns $+1$; the episode **terminates** when the pole tilts beyond 12°
# or the cart leaves the track, and is **truncated** at 500 steps. The return (undiscounted) is the
# number of steps survived, so 500 is the maximum.
#
# The states are continuous: no table can hold a value for each of them, and the agent never sees
# exactly the same state twice. We need a function that **generalises** from the states it has
# seen to similar ones, and that is the job of a neural network. First, the baseline any agent
# must beat: a policy that pushes at random.

# %%
env = gym.make("CartPole-v1")
state, info = env.reset(seed=0)  # seeding the first reset makes the episodes reproducible
env.action_space.seed(0)
print("observation space:", env.observation_space)
print("action space:", env.action_space, "| first state:", np.round(state, 3))


def run_episode(env, act, seed=None):
    """Play one episode with the policy `act(state) -> action`; return states, actions, rewards."""
    state, _ = env.reset(seed=seed)
    states, actions, rewards = [], [], []
    while True:
        action = act(state)
        states.append(state)
        actions.append(action)
        state, reward, terminated, truncated, _ = env.step(action)
        rewards.append(reward)
        if terminated or truncated:
            return np.array(states, "float32"), np.array(actions, "int64"), np.array(rewards, "float32")


def numpy_mlp(model, activation):
    """The model's current weights as a fast NumPy function (calling Keras per step is slow)."""
    weights = [layer.get_weights() for layer in model.layers]

    def forward(x):
        for w, b in weights[:-1]:
            x = activation(x @ w + b)
        w, b = weights[-1]
        return x @ w + b

    return forward


def relu(x):
    return np.maximum(x, 0.0)


validation_env = gym.make("CartPole-v1")  # its own copy, so validating leaves training's episodes alone


def validation_return(act, episodes=5):
    """Mean return of act on validation episodes (seeds distinct from the final evaluation's)."""
    return float(np.mean([run_episode(validation_env, act, seed=5000 + i)[2].sum() for i in range(episodes)]))


random_returns = [run_episode(env, lambda s: env.action_space.sample(), seed=1000 + i)[2].sum()
                  for i in range(EVAL_EPISODES)]
random_mean = float(np.mean(random_returns))
print(f"random policy: mean return {random_mean:.1f} over {EVAL_EPISODES} episodes")

# %% [markdown]
# ## 5. Deep Q-networks (DQN)
#
# The obvious idea is to replace the table by a network $Q_\theta(s, \cdot)$ that maps a state to
# one value per action, and to turn the Q-learning update into a regression: minimise the gap
# between $Q_\theta(s, a)$ and the TD target $y = r + \gamma \max_{a'} Q(s', a')$. Done naively,
# this diverges or oscillates. Two reasons: consecutive transitions are strongly correlated (a
# network trained on them overfits the current stretch of the episode and forgets the rest), and
# the target moves with every gradient step, since it is computed with the very network being
# trained. Mnih et al. (2015) made it work on Atari games with two devices, both in the code below:
#
# - a **replay buffer**: every transition $(s, a, r, s', \text{terminated})$ is stored, and each
#   gradient step uses a minibatch drawn **uniformly at random** from the whole buffer. This breaks
#   the correlations, and every transition is reused many times. Because Q-learning is off-policy,
#   learning from transitions that an older policy collected is legitimate;
# - a **target network** $Q_{\theta^-}$, a frozen copy of the network that computes the targets
#   $y = r + \gamma (1 - \text{terminated}) \max_{a'} Q_{\theta^-}(s', a')$. It is refreshed every
#   `TARGET_UPDATE_EVERY` steps, so for a while the regression has a fixed target, as in supervised
#   learning.
#
# The regression loss is the **Huber loss**: quadratic for errors below 1, linear beyond. Early in
# training TD errors can be large, and a squared error would turn them into huge gradients; Mnih
# et al. achieve the same effect by clipping the error term's gradient to $[-1, 1]$. Exploration is
# epsilon-greedy again, with $\varepsilon$ decaying from 1 to 0.05 over the first
# `EPSILON_DECAY_STEPS` environment steps.
#
# ### Exercise 3 — the DQN targets
#
# Write `td_targets(rewards, next_q, terminated, gamma)` for a batch: `rewards` and `terminated`
# (0.0 or 1.0) of shape (N,), `next_q` of shape (N, n_actions) from the target network. Return
# $r + \gamma (1 - \text{terminated}) \max_{a'} Q(s', a')$ of shape (N,). Use `keras.ops` (e.g.
# `keras.ops.max`) so it works both on NumPy arrays and on tensors inside the compiled training
# step.

# %% nbgrader={"grade": false, "grade_id": "ex3_td_targets", "locked": false, "schema_version": 3, "solution": true, "task": false}
def td_targets(rewards, next_q, terminated, gamma):
    """DQN regression targets: r + gamma * (1 - terminated) * max_a' Q_target(s', a')."""
    ### BEGIN SOLUTION
    return rewards + gamma * (1.0 - terminated) * keras.ops.max(next_q, axis=1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex3_td_targets_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
_y = td_targets(np.array([1.0, 1.0], "float32"), np.array([[2.0, 3.0], [5.0, 4.0]], "float32"),
                np.array([0.0, 0.0], "float32"), 0.5)
np.testing.assert_allclose(keras.ops.convert_to_numpy(_y), [2.5, 3.5])
### BEGIN HIDDEN TESTS
_y = td_targets(np.array([1.0, 0.0, 2.0], "float32"), np.array([[9.0, 1.0], [-1.0, -2.0], [0.0, 7.0]], "float32"),
                np.array([1.0, 0.0, 0.0], "float32"), 0.9)
np.testing.assert_allclose(keras.ops.convert_to_numpy(_y), [1.0, -0.9, 2.0 + 6.3], rtol=1e-6)
_y = td_targets(tf.constant([0.5]), tf.constant([[1.0, 2.0, 3.0]]), tf.constant([0.0]), 1.0)
np.testing.assert_allclose(keras.ops.convert_to_numpy(_y), [3.5])
### END HIDDEN TESTS

# %% [markdown]
# The agent: a small MLP (4 → 64 → 64 → 2 action values), its target copy, and a ring buffer in
# NumPy. One practical detail: calling TensorFlow from Python costs far more than the arithmetic
# of such a tiny network, so instead of one gradient step after each environment step, we take
# **8 gradient steps every 8 steps**, in one compiled call (`jit_compile=True` lets XLA fuse
# them). The ratio of one update per environment step is the same; the actions between two calls
# come from a NumPy copy of the weights that is at most 8 updates old.
#
# Every `VALIDATE_EVERY` episodes the loop also plays 5 **validation** episodes greedily
# ($\varepsilon = 0$, on seeds of their own) and keeps a copy of the weights whenever they score
# at least as well as the best so far; at the end those best weights are restored. This is early
# stopping, exactly as with a validation set in supervised learning, and it is needed: DQN's
# performance does not rise steadily, it can reach the maximum and then fall apart a few thousand
# steps later. REINFORCE gets the same treatment below, so the comparison stays fair, and the
# final evaluation uses yet other seeds, never seen during selection.

# %%
def make_q_network():
    return keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(64, activation="relu"),
                             keras.layers.Dense(64, activation="relu"), keras.layers.Dense(2)])


q_net, target_net = make_q_network(), make_q_network()
target_net.set_weights(q_net.get_weights())
dqn_optimizer = keras.optimizers.Adam(DQN_LEARNING_RATE)
huber = keras.losses.Huber(delta=1.0)
UPDATES_PER_CALL = 8


class ReplayBuffer:
    """The last `capacity` transitions; the oldest are overwritten first."""

    def __init__(self, capacity, state_dim):
        self.states = np.zeros((capacity, state_dim), "float32")
        self.actions = np.zeros(capacity, "int64")
        self.rewards = np.zeros(capacity, "float32")
        self.next_states = np.zeros((capacity, state_dim), "float32")
        self.terminated = np.zeros(capacity, "float32")
        self.capacity, self.size, self.position = capacity, 0, 0

    def add(self, state, action, reward, next_state, terminated):
        i = self.position
        self.states[i], self.actions[i], self.rewards[i] = state, action, reward
        self.next_states[i], self.terminated[i] = next_state, float(terminated)
        self.position = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, shape):
        """Uniformly random transitions, arrays of leading shape `shape`."""
        idx = rng.integers(self.size, size=shape)
        return (self.states[idx], self.actions[idx], self.rewards[idx], self.next_states[idx],
                self.terminated[idx])


@tf.function(jit_compile=True)
def dqn_learn(states, actions, rewards, next_states, terminated):
    """One DQN gradient step per leading index: arrays of shape (updates, batch, ...)."""
    loss = tf.constant(0.0)
    for k in tf.range(tf.shape(states)[0]):
        targets = td_targets(rewards[k], target_net(next_states[k]), terminated[k], GAMMA)
        with tf.GradientTape() as tape:
            q_taken = tf.gather(q_net(states[k]), actions[k][:, None], batch_dims=1)[:, 0]
            loss = huber(targets, q_taken)
        grads = tape.gradient(loss, q_net.trainable_variables)
        dqn_optimizer.apply_gradients(zip(grads, q_net.trainable_variables))
    return loss


buffer = ReplayBuffer(BUFFER_SIZE, 4)
q_numpy = numpy_mlp(q_net, relu)


def greedy_q(state):
    """The action with the highest value according to the current NumPy copy of the Q-network."""
    return int(np.argmax(q_numpy(state)))


dqn_returns, dqn_steps, step = [], [], 0
dqn_validation, best_score, best_episode, best_weights = [], -1.0, 0, q_net.get_weights()
start = time.perf_counter()
for episode in range(CARTPOLE_EPISODES):
    state, _ = env.reset()
    episode_return = 0.0
    while True:
        epsilon = max(0.05, 1.0 - 0.95 * step / EPSILON_DECAY_STEPS)
        action = int(rng.integers(2)) if rng.random() < epsilon else greedy_q(state)
        next_state, reward, terminated, truncated, _ = env.step(action)
        buffer.add(state, action, reward, next_state, terminated)  # not `truncated`: see the pitfalls
        state, episode_return, step = next_state, episode_return + reward, step + 1
        if step >= LEARNING_STARTS and step % UPDATES_PER_CALL == 0:
            dqn_learn(*buffer.sample((UPDATES_PER_CALL, BATCH_SIZE)))
            q_numpy = numpy_mlp(q_net, relu)
        if step % TARGET_UPDATE_EVERY == 0:
            target_net.set_weights(q_net.get_weights())
        if terminated or truncated:
            break
    dqn_returns.append(episode_return)
    dqn_steps.append(step)
    if (episode + 1) % VALIDATE_EVERY == 0:  # greedy validation: keep the best weights seen
        dqn_validation.append((episode + 1, validation_return(greedy_q)))
        if dqn_validation[-1][1] >= best_score:
            best_score, best_episode, best_weights = dqn_validation[-1][1], episode + 1, q_net.get_weights()
    if (episode + 1) % 50 == 0:
        print(f"DQN episode {episode + 1:4d}: {step:6d} steps so far,"
              f" mean return of the last 50 episodes {np.mean(dqn_returns[-50:]):6.1f}")
dqn_seconds = time.perf_counter() - start
q_net.set_weights(best_weights)
q_numpy = numpy_mlp(q_net, relu)
print(f"best validation return {best_score:.1f} (last reached at episode {best_episode});"
      " the final evaluation uses those weights")
dqn_eval = [run_episode(env, greedy_q, seed=1000 + i)[2].sum()
            for i in range(EVAL_EPISODES)]
dqn_mean = float(np.mean(dqn_eval))
print(f"DQN: {dqn_seconds:.0f} s of training | greedy evaluation: mean return {dqn_mean:.1f}"
      f" (random policy {random_mean:.1f})")

# %% [markdown]
# ## 6. The policy gradient (REINFORCE)
#
# DQN learns values and derives a policy from them. The other family learns the **policy
# directly**: a network $\pi_\theta(a \mid s)$ outputs action probabilities and the agent
# **samples** its action, which makes it explore without any $\varepsilon$. We want to maximise
# $J(\theta) = \mathbb E_{\pi_\theta}[G_0]$. The **policy gradient theorem** (Sutton, McAllester,
# Singh & Mansour, 2000) gives its gradient as an expectation over the states and actions the
# policy itself visits, so we can estimate it from played episodes. For an episode it reads
#
# $$\nabla_\theta J = \mathbb E\Big[\sum_t \gamma^t\, \nabla_\theta \log \pi_\theta(a_t \mid s_t)\; G_t\Big].$$
#
# Estimating it with the returns of sampled episodes is **REINFORCE** (Williams, 1992), which
# predates the theorem's general form. Like most implementations, we drop the factor
# $\gamma^t$ (with $\gamma = 0.99$ it would make the late steps of a 500-step episode count
# almost nothing). The update is then no longer exactly the gradient of $J$, since it weights
# late steps as much as early ones, but it is the usual practice and works well (Thomas, 2014,
# and Nota & Thomas, 2020, analyse the difference).
#
# Read it as weighted maximum likelihood: make the actions we took more likely, in proportion to
# the return that followed them. This estimate is very noisy. Subtracting a **baseline** $b(s_t)$
# leaves it unbiased (since $\mathbb E[\nabla \log \pi] = 0$) and cuts the variance; the natural
# baseline is a second network $V_\phi(s) \approx \mathbb E[G_t \mid s_t = s]$, trained by
# regression. The **advantage** $A_t = G_t - V_\phi(s_t)$ says whether the action did better or
# worse than usual from that state. The loss we minimise is
#
# $$\mathcal L(\theta) = -\frac1N \sum_t \log \pi_\theta(a_t \mid s_t)\, A_t .$$
#
# Unlike Q-learning, REINFORCE is **on-policy**: the gradient is an expectation over the current
# policy's own episodes, so every batch is used for one update and then thrown away. There is no
# bootstrapping either: $G_t$ is the real return, observed to the end of the episode.
#
# ### Exercise 4 — the policy-gradient loss
#
# Write `policy_gradient_loss(logits, actions, advantages)` with TensorFlow ops: `logits` of shape
# (N, n_actions), integer `actions` (N,), `advantages` (N,). Return the scalar
# $-\mathrm{mean}(\log \pi(a_t \mid s_t)\, A_t)$ where $\log \pi$ is the log-softmax of the logits.
# (Hint: `tf.nn.log_softmax`, `tf.gather(..., batch_dims=1)`.)

# %% nbgrader={"grade": false, "grade_id": "ex4_pg_loss", "locked": false, "schema_version": 3, "solution": true, "task": false}
def policy_gradient_loss(logits, actions, advantages):
    """REINFORCE loss: -mean(log pi(a_t | s_t) * A_t)."""
    logits = tf.convert_to_tensor(logits, dtype=tf.float32)
    actions = tf.cast(actions, tf.int64)
    advantages = tf.cast(advantages, tf.float32)
    ### BEGIN SOLUTION
    log_probs = tf.nn.log_softmax(logits, axis=-1)
    taken = tf.gather(log_probs, actions[:, None], batch_dims=1)[:, 0]  # log pi(a_t | s_t)
    return -tf.reduce_mean(taken * advantages)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex4_pg_loss_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
_loss = policy_gradient_loss([[0.0, 0.0], [0.0, 0.0]], [0, 1], [1.0, 1.0])
assert np.ndim(_loss) == 0, "a scalar"
np.testing.assert_allclose(float(_loss), np.log(2.0), rtol=1e-6)
### BEGIN HIDDEN TESTS
_lg = np.random.default_rng(0).normal(size=(6, 3)).astype("float32")
_a = np.array([0, 2, 1, 1, 0, 2])
_adv = np.array([1.0, -2.0, 0.5, 3.0, -1.0, 0.0], dtype="float32")
_lp = _lg - np.log(np.exp(_lg).sum(1, keepdims=True))
np.testing.assert_allclose(float(policy_gradient_loss(_lg, _a, _adv)), -np.mean(_lp[np.arange(6), _a] * _adv),
                           rtol=1e-5)
_lgv = tf.Variable(_lg)
with tf.GradientTape() as _tape:
    _l = policy_gradient_loss(_lgv, _a, _adv)
assert _tape.gradient(_l, _lgv) is not None, "the loss must be differentiable w.r.t. the logits"
### END HIDDEN TESTS

# %% [markdown]
# Two small networks: the policy (4 → 32 → 2 logits) and the value baseline (4 → 32 → 1). Each
# iteration plays `EPISODES_PER_UPDATE` episodes with the current policy, computes the returns
# with your `discounted_returns`, and takes one gradient step on each network, until the same
# episode budget as DQN is spent. Advantages are standardised (mean 0, standard deviation 1) over
# the batch, a common trick that keeps the step size stable as returns grow.

# %%
policy = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(32, activation="tanh"),
                           keras.layers.Dense(2)], name="policy")
value = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(32, activation="tanh"),
                          keras.layers.Dense(1)], name="value")
policy_opt = keras.optimizers.Adam(PG_LEARNING_RATE)
value_opt = keras.optimizers.Adam(PG_LEARNING_RATE)


def numpy_policy(greedy=False):
    """A fast act(state) from the policy network's current weights."""
    forward = numpy_mlp(policy, np.tanh)

    def act(state):
        logits = forward(state)
        if greedy:
            return int(np.argmax(logits))
        p = np.exp(logits - logits.max())
        return int(rng.choice(2, p=p / p.sum()))

    return act


@tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32), tf.TensorSpec([None], tf.int64),
                              tf.TensorSpec([None], tf.float32)])
def pg_update(states, actions, returns):
    with tf.GradientTape() as tape:  # baseline: regress V(s) on the observed returns
        baseline = tf.squeeze(value(states), axis=-1)
        value_loss = tf.reduce_mean((returns - baseline) ** 2)
    value_opt.apply_gradients(zip(tape.gradient(value_loss, value.trainable_variables),
                                  value.trainable_variables))
    advantages = returns - baseline
    advantages = (advantages - tf.reduce_mean(advantages)) / (tf.math.reduce_std(advantages) + 1e-8)
    with tf.GradientTape() as tape:
        loss = policy_gradient_loss(policy(states), actions, tf.stop_gradient(advantages))
    policy_opt.apply_gradients(zip(tape.gradient(loss, policy.trainable_variables),
                                   policy.trainable_variables))
    return value_loss


pg_returns, pg_steps, step = [], [], 0
pg_validation, best_score, best_episode, best_weights = [], -1.0, 0, policy.get_weights()
start = time.perf_counter()
for iteration in range(CARTPOLE_EPISODES // EPISODES_PER_UPDATE):
    act = numpy_policy()
    episodes = [run_episode(env, act) for _ in range(EPISODES_PER_UPDATE)]
    states = np.concatenate([s for s, _, _ in episodes])
    actions = np.concatenate([a for _, a, _ in episodes])
    returns = np.concatenate([discounted_returns(r, GAMMA) for _, _, r in episodes])
    pg_update(states, actions, returns)
    for _, _, r in episodes:
        step += len(r)
        pg_returns.append(r.sum())
        pg_steps.append(step)
    if len(pg_returns) % VALIDATE_EVERY == 0:  # the same model selection as for DQN
        pg_validation.append((len(pg_returns), validation_return(numpy_policy(greedy=True))))
        if pg_validation[-1][1] >= best_score:
            best_score, best_episode, best_weights = pg_validation[-1][1], len(pg_returns), policy.get_weights()
    if (iteration + 1) % 10 == 0:
        print(f"REINFORCE update {iteration + 1:3d} (episode {len(pg_returns):4d}): {step:6d} steps so far,"
              f" mean return of the last batch {np.mean(pg_returns[-EPISODES_PER_UPDATE:]):6.1f}")
pg_seconds = time.perf_counter() - start
policy.set_weights(best_weights)
print(f"best validation return {best_score:.1f} (last reached at episode {best_episode});"
      " the final evaluation uses those weights")
pg_eval = [run_episode(env, numpy_policy(greedy=True), seed=1000 + i)[2].sum() for i in range(EVAL_EPISODES)]
pg_mean = float(np.mean(pg_eval))
print(f"REINFORCE: {pg_seconds:.0f} s of training | greedy evaluation: mean return {pg_mean:.1f}"
      f" (random policy {random_mean:.1f})")

# %% [markdown]
# ## 7. DQN against REINFORCE, on the same episode budget
#
# Both agents played the same number of episodes. The left panel shows the return of each
# training episode (a moving average over 10 episodes); the right panel plots the same curves
# against the number of **environment steps**, the amount of experience actually consumed, since a
# 500-step episode contains 25 times more experience than a 20-step one. Below, the returns of
# each trained agent, acting greedily, over the same 20 evaluation episodes as the random policy.

# %%
def smooth(x, window=10):
    return np.convolve(x, np.ones(window) / window, mode="valid")


fig, axes = plt.subplots(1, 3, figsize=(15, 4))
for name, returns, steps, validation, color in [
        ("DQN", dqn_returns, dqn_steps, dqn_validation, "tab:blue"),
        ("REINFORCE", pg_returns, pg_steps, pg_validation, "tab:orange")]:
    axes[0].plot(np.arange(10, len(returns) + 1), smooth(returns), color=color, label=f"{name} (training)")
    episodes, scores = zip(*validation)
    axes[0].plot(episodes, scores, "o", ms=4, color=color, alpha=0.6, label=f"{name} (greedy validation)")
    axes[1].plot(np.asarray(steps)[9:], smooth(returns), color=color, label=name)
for ax in axes[:2]:
    ax.axhline(random_mean, color="k", ls="--", label="random policy")
    ax.axhline(500, color="grey", ls=":", label="maximum (500)")
    ax.set_ylabel("episode return (moving average of 10)")
    ax.legend(fontsize=7, loc="upper left")
axes[0].set(title="Learning curves on CartPole-v1", xlabel="training episode")
axes[1].set(title="The same curves against experience", xlabel="environment steps")
bins = np.linspace(0, 500, 26)
axes[2].hist([random_returns, dqn_eval, pg_eval], bins=bins, color=["k", "tab:blue", "tab:orange"],
             label=["random policy", "DQN (greedy)", "REINFORCE (greedy)"])
axes[2].set(title=f"Returns over {EVAL_EPISODES} evaluation episodes", xlabel="episode return",
            ylabel="episodes")
axes[2].legend(fontsize=8)
plt.tight_layout()
plt.show()
print(f"greedy mean return: DQN {dqn_mean:.1f} ({dqn_seconds:.0f} s, {dqn_steps[-1]} steps)"
      f" | REINFORCE {pg_mean:.1f} ({pg_seconds:.0f} s, {pg_steps[-1]} steps) | random {random_mean:.1f}")

# %% [markdown]
# What to read in these curves (the numbers are from our runs; RL is sensitive enough that other
# hardware or library versions can change them):
#
# - **The start.** For its first hundred episodes DQN does *worse* than random: during the first
#   `LEARNING_STARTS` steps it only fills its buffer, and right after, its barely trained greedy
#   choices (such as always pushing the same way) end episodes in about ten steps. REINFORCE's
#   sampled actions never stop exploring, so it never drops below chance.
# - **Experience against computation.** Each transition in DQN's buffer is sampled for dozens of
#   gradient steps, whereas REINFORCE uses each episode once and throws it away. That reuse is why
#   DQN is usually called the more sample-efficient method, but on a problem this small our runs
#   do not show it: in the full lesson REINFORCE's greedy validation scored a perfect 500 at episode
#   144 (fewer than 15,000 steps), DQN's first 500 came at episode 216 (fewer than 25,000).
#   The totals at the end (DQN 64,000 steps, REINFORCE 192,000) mostly say that DQN's episodes
#   became short after its collapse. Computation is clear-cut: DQN takes one gradient step per
#   environment step, REINFORCE one per 8 episodes, so REINFORCE trained several times faster in
#   wall-clock time.
# - **Stability.** In the full lesson DQN's training return collapsed after about 380 episodes, from
#   around 300 to below the random policy, the instability the validation checkpoint is there to
#   survive; without it we would have evaluated the final weights, whose last 50 training episodes
#   averaged 14 steps. REINFORCE's curve is noisy
#   (a single bad update can undo progress for a while) but its large failures recover.
# - **The budget.** With 200 episodes (FAST) neither agent is finished: expect both well above the
#   random policy but below 500 (our run: DQN 131, REINFORCE 236). With 600 episodes both selected
#   agents balanced the pole for all 500 steps of every evaluation episode.
#
# Which family wins depends on the problem: value-based methods like DQN suit discrete actions and
# expensive experience; policy gradients handle continuous actions naturally and are the basis of
# most modern methods, including PPO, used to fine-tune language models with human feedback.

# %%
fig, ax = plt.subplots(figsize=(8, 3.5))
for name, act in [("REINFORCE", numpy_policy(greedy=True)),
                  ("DQN", greedy_q),
                  ("random policy", lambda s: env.action_space.sample())]:
    states, _, _ = run_episode(env, act, seed=2024)
    ax.plot(np.degrees(states[:200, 2]), label=f"{name} ({len(states)} steps)")
ax.axhline(12, color="red", ls=":", label="failure angle (±12°)")
ax.axhline(-12, color="red", ls=":")
ax.set(title="Pole angle during one episode (first 200 steps)", xlabel="time step",
       ylabel="pole angle (degrees)")
ax.legend(fontsize=8)
plt.show()
env.close()
validation_env.close()
lake.close()

# %% [markdown]
# A trained agent keeps the pole angle within a couple of degrees of vertical, alternating pushes,
# where the random policy lets it fall within a few dozen steps. (A briefly trained agent may still
# end an episode early by drifting off the track: the slow drift of the cart position is a
# longer-term consequence that agents learn last.)
#
# ### Conceptual question — what makes DQN's targets legitimate?
#
# DQN trains on transitions from its replay buffer, many of them collected thousands of steps ago
# by an older, more exploratory version of the agent. Why is that correct for DQN, when REINFORCE
# must throw each batch away after one update? Assign one letter to `ANSWER_OFF_POLICY`.
#
# - `"a"`: because the target network is a copy of an old network, so old data matches it;
# - `"b"`: because the Q-learning target $r + \gamma \max_{a'} Q(s', a')$ needs only the
#   transition $(s, a, r, s')$ and evaluates the greedy policy, whichever policy chose $a$; the
#   policy gradient is an expectation over the *current* policy's own actions;
# - `"c"`: because the Huber loss is robust to the outliers that old transitions produce;
# - `"d"`: because CartPole is deterministic, so any transition is as good as any other.

# %% nbgrader={"grade": false, "grade_id": "concept_off_policy", "locked": false, "schema_version": 3, "solution": true, "task": false}
ANSWER_OFF_POLICY = None  # one of "a", "b", "c", "d"
### BEGIN SOLUTION
ANSWER_OFF_POLICY = "b"  # Q-learning is off-policy; REINFORCE's gradient samples the current policy
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "concept_off_policy_test", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
assert ANSWER_OFF_POLICY in ("a", "b", "c", "d"), "ANSWER_OFF_POLICY must be one of 'a', 'b', 'c', 'd'"
### BEGIN HIDDEN TESTS
assert ANSWER_OFF_POLICY == "b"
### END HIDDEN TESTS

# %% [markdown]
# ## Common pitfalls
#
# - **Treating a time limit as a terminal state.** CartPole stops at 500 steps because of a time
#   limit, not because the pole fell; the state after step 500 still has a future. If the buffer
#   stores `terminated or truncated` as "done", the target for that transition drops the future
#   value and the agent learns that surviving a long time leads to a value of zero. Gymnasium
#   returns the two flags separately for exactly this reason: bootstrap through truncation, stop
#   only at termination.
# - **Reading the training curve as the policy's quality.** An epsilon-greedy or sampling agent's
#   training returns include its exploration. Evaluate the greedy policy on separate, seeded
#   episodes, and compare against a baseline (the random policy) on the same seeds.
# - **One seed, one conclusion.** RL results vary a lot from seed to seed; a single curve can look
#   great or terrible by chance. Before claiming one method beats another, run several seeds and
#   look at the spread (Henderson et al., 2018, document how often published comparisons fail this).
# - **Forgetting the target network or the replay buffer.** Without them DQN's regression chases
#   its own moving predictions on correlated data; the symptom is Q-values that grow without bound
#   or a return that collapses after a good start. Print the mean $Q(s, a)$ now and then: on
#   CartPole it cannot exceed $1/(1-\gamma) = 100$.
# - **Letting gradients flow into the target.** The TD target must be a constant for the gradient
#   step (computed with the target network outside the tape, or with `tf.stop_gradient`);
#   otherwise the update also moves the target towards the prediction and learning degrades.
# - **Exploration that stops too early.** If $\varepsilon$ reaches its floor before the agent has
#   ever seen the states that matter (or FrozenLake's goal), the greedy policy locks onto the first
#   thing that worked. A flat training curve at the random level is the symptom; decay more slowly.
# - **A reward scale that breaks the optimiser.** Returns of several hundred, used raw as
#   REINFORCE weights, give huge steps; that is why the advantages are standardised. For DQN the
#   Huber loss plays a similar role.
# - **Expecting monotone progress.** Both methods can get worse after getting better (a policy
#   step that is too large, a Q-function that overestimates). Keep the best evaluated weights, or
#   use the methods built to limit this, such as PPO's clipped policy steps (Schulman et al., 2017)
#   and Double DQN's less overestimated targets (van Hasselt et al., 2016).
#
# ## Where to go next
#
# REINFORCE is the simplest policy-gradient method. Its descendants (actor-critic, A2C, PPO) keep
# the same gradient but bootstrap the return with the value network, which lowers the variance,
# and limit the size of each policy step. DQN's descendants (Double DQN, prioritised replay,
# dueling networks, distributional RL, combined in Rainbow) fix its overestimation and make it
# more sample-efficient. All of them rest on the two ideas of this lesson: the Bellman equation
# and the policy gradient.
#
# ## Further reading
#
# - Sutton & Barto (2018), *Reinforcement Learning: An Introduction*, 2nd ed., MIT Press:
#   chapter 3 (finite MDPs, the Bellman equations), chapter 4 (dynamic programming, value
#   iteration), chapters 5 and 6 (Monte Carlo and temporal-difference learning, Q-learning in
#   section 6.5) and chapter 13 (policy gradient methods, REINFORCE with baseline).
# - Bellman (1957), *Dynamic Programming*, Princeton University Press.
# - Watkins & Dayan (1992), "Q-learning", *Machine Learning* 8: the convergence proof of the
#   algorithm introduced in Watkins's 1989 PhD thesis.
# - Williams (1992), "Simple statistical gradient-following algorithms for connectionist
#   reinforcement learning", *Machine Learning* 8: REINFORCE.
# - Sutton, McAllester, Singh & Mansour (2000), "Policy gradient methods for reinforcement
#   learning with function approximation", NIPS 12: the policy gradient theorem.
# - Mnih et al. (2015), "Human-level control through deep reinforcement learning", *Nature* 518:
#   DQN with experience replay and a target network.
# - van Hasselt, Guez & Silver (2016), "Deep reinforcement learning with double Q-learning", AAAI.
# - Schulman, Wolski, Dhariwal, Radford & Klimov (2017), "Proximal policy optimization
#   algorithms", arXiv:1707.06347.
# - Henderson et al. (2018), "Deep reinforcement learning that matters", AAAI.
#
# ## What we reached
#
# The check: REINFORCE's mean return over 20 greedy evaluation episodes, against the random
# policy's (about 22); the target is 80 in FAST mode and 250 in the full lesson (the recorded runs:
# 235.9 in FAST mode, 500 in the full lesson). After it, secondary checks: DQN must score at least
# twice the random policy (131.1 and 500 in our runs), and on FrozenLake the Q-learning greedy
# policy must succeed at least ten times as often as the random policy and come within 0.15 (FAST)
# or 0.08 (full) of the value-iteration optimum (0.716 against 0.732, and 0.729 against 0.729).
#
# Recorded by `benchmarks/notebooks.py` for `cartpole_mean_return`: FAST mode 235.9 (target ≥ 80.0, 16 s, 2026-11-23); full lesson 500.0 (target ≥ 250.0, 482 s, 2026-11-23).

# %% tags=["check"]
print(f"random policy {random_mean:.1f} | DQN {dqn_mean:.1f} | REINFORCE {pg_mean:.1f}")
RESULT = {"metric": "cartpole_mean_return", "value": round(pg_mean, 4),
          "target": 80.0 if FAST else 250.0}
print(RESULT)
assert RESULT["value"] >= RESULT["target"], f"mean return {RESULT['value']} below {RESULT['target']}"
assert pg_mean >= 3 * random_mean, "REINFORCE must beat the random policy by a clear margin"
assert dqn_mean >= 2 * random_mean, f"DQN ({dqn_mean:.1f}) must clearly beat the random policy"
assert q_success >= 10 * max(random_success, 0.01), "Q-learning must beat the random policy on FrozenLake"
assert q_success >= optimal_success - (0.15 if FAST else 0.08), "Q-learning must come close to the optimum"
