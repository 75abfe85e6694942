# %% [markdown]
# # 6. Training a network
#
# Everything so far differentiated small formulas. A neural network is the same thing,
# bigger: a function of its weights, a scalar loss, and the gradient of the loss with
# respect to every weight, which reverse mode delivers in one sweep whatever the number
# of weights. Then a small step downhill, and again.
#
# In this notebook we build a multilayer perceptron from adjoint's ops alone (matrix
# products, `tanh`, `exp`, `log`), train it with plain gradient descent on a dataset we
# generate with NumPy, and look at what it learned.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

import adjoint as ad

# %% [markdown]
# ## The data: two moons
#
# Two interleaved half circles, one per class, with some noise. No straight line
# separates them, so a linear model cannot do well: the network has to bend its
# decision boundary. Labels are ±1.

# %%
def two_moons(n, noise, rng):
    t = rng.uniform(0, np.pi, n)
    upper = np.stack([np.cos(t), np.sin(t)], axis=1)
    lower = np.stack([1 - np.cos(t), 0.5 - np.sin(t)], axis=1)
    labels = rng.integers(0, 2, n)
    points = np.where(labels[:, None] == 0, upper, lower) + noise * rng.standard_normal((n, 2))
    return points, np.where(labels == 0, 1.0, -1.0)


X_raw, y = two_moons(300, 0.12, np.random.default_rng(0))
mu, sigma = X_raw.mean(axis=0), X_raw.std(axis=0)
X = (X_raw - mu) / sigma          # standardised: well-scaled inputs train faster

fig, ax = plt.subplots(figsize=(4.5, 3.5))
ax.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", s=12, edgecolor="k", linewidth=0.3)
ax.set_title("two moons (training set)")
plt.show()

# %% [markdown]
# ## The model
#
# A two-layer perceptron: 2 inputs → 16 → 16 → 1 output, with `tanh` between the layers.
# The output z is a score: positive means class +1. Weights are leaves (`Tensor`s that
# require grad); biases are row vectors that broadcast over the batch, and adjoint
# inserts explicit `BroadcastTo` nodes for that, whose gradient is the sum over the batch.

# %%
def init_params(sizes, rng):
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        W = ad.Tensor(rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in), name="W")
        b = ad.Tensor(np.zeros((1, fan_out)), name="b")
        params += [W, b]
    return params


def forward(params, X):
    h = X
    for i in range(0, len(params), 2):
        W, b = params[i], params[i + 1]
        h = h @ W + b
        if i + 2 < len(params):
            h = ad.tanh(h)
    return h.reshape(h.shape[0])      # one score per point


# %% [markdown]
# ## The loss
#
# For labels ±1 and scores z, the logistic loss is the mean of log(1 + e^{−y·z}): small
# when y and z agree in sign with a margin, large when they disagree. It is the
# negative log-likelihood of a logistic model, written with adjoint's `log` and `exp`.
# (For very confident wrong scores e^{−y·z} would overflow; a production loss uses the
# log-sum-exp trick. Our scores stay small.)

# %%
def loss_fn(params, X, y):
    margins = forward(params, ad.Tensor(X, requires_grad=False)) * y
    return ad.log(1 + ad.exp(-margins)).sum() / len(y)


def accuracy(params, X, y):
    with ad.no_grad():
        scores = forward(params, ad.Tensor(X, requires_grad=False)).numpy()
    return float(np.mean(np.sign(scores) == y))


# %% [markdown]
# Before training, we check the gradients once. `ad.gradcheck` compares adjoint's
# gradient of the loss with central finite differences along random directions, for
# every weight matrix at once.

# %%
params = init_params([2, 16, 16, 1], np.random.default_rng(42))
arrays = [p.numpy().copy() for p in params]
assert ad.gradcheck(lambda *ps: loss_fn(list(ps), X[:20], y[:20]), *arrays)
print("gradients agree with finite differences")

# %% [markdown]
# ## Training
#
# Each step: build the loss graph, run the reverse sweep, move every weight a little
# against its gradient. Two details matter:
#
# * `loss.backward(create_graph=False)` makes gradients plain constants. adjoint's
#   default, `create_graph=True`, builds the gradient as a graph so it can be
#   differentiated again (notebook 5); training needs only first derivatives, so the
#   cheaper form is the right one.
# * The update works on **detached data** (`p.data`, needle's idiom), so it records no
#   graph: the graph of step k is garbage once step k+1 starts, and memory stays flat.
#
# Plain gradient descent with momentum 0.9 on the full batch, 400 steps.

# %%
lr, momentum, steps = 0.3, 0.9, 400
velocity = [np.zeros(p.shape) for p in params]
losses, accuracies = [], []
start = time.perf_counter()
for step in range(steps):
    loss = loss_fn(params, X, y)
    loss.backward(create_graph=False)
    for p, v in zip(params, velocity):
        v *= momentum
        v -= lr * p.grad.numpy()
        p.data = ad.Tensor(p.numpy() + v, requires_grad=False)
    losses.append(float(loss))
    if step % 10 == 0 or step == steps - 1:
        accuracies.append((step, accuracy(params, X, y)))
seconds = time.perf_counter() - start
print(f"{steps} steps in {seconds:.2f} s; loss {losses[0]:.3f} -> {losses[-1]:.4f}; "
      f"training accuracy {accuracies[-1][1]:.1%}")

# %%
assert losses[-1] < 0.1 * losses[0]
assert accuracies[-1][1] > 0.97

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.2))
ax1.semilogy(losses)
ax1.set_xlabel("step")
ax1.set_title("training loss")
ax2.plot(*zip(*accuracies))
ax2.set_xlabel("step")
ax2.set_title("training accuracy")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## What the network learned
#
# We evaluate the trained network on a grid of points (under `no_grad`: no graph needed
# to predict) and colour the plane by its score. The boundary, where the score is
# zero, bends between the two moons.

# %%
xs = np.linspace(X[:, 0].min() - 0.5, X[:, 0].max() + 0.5, 200)
ys = np.linspace(X[:, 1].min() - 0.5, X[:, 1].max() + 0.5, 200)
grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
with ad.no_grad():
    scores = forward(params, ad.Tensor(grid, requires_grad=False)).numpy().reshape(200, 200)

fig, ax = plt.subplots(figsize=(5, 4))
ax.contourf(xs, ys, np.tanh(scores), levels=20, cmap="coolwarm", alpha=0.6)
ax.contour(xs, ys, scores, levels=[0], colors="k")
ax.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", s=12, edgecolor="k", linewidth=0.3)
ax.set_title("decision boundary (score = 0)")
plt.show()

# %% [markdown]
# A fresh sample from the same distribution, never seen in training, tells us whether
# the network learned the moons or memorised the points.

# %%
X_new, y_new = two_moons(1000, 0.12, np.random.default_rng(1))
X_new = (X_new - mu) / sigma      # scaled with the training set's statistics
test_accuracy = accuracy(params, X_new, y_new)
print(f"accuracy on 1000 new points: {test_accuracy:.1%}")
assert test_accuracy > 0.95

# %% [markdown]
# ## The same with `adjoint.nn` and `adjoint.optim`
#
# Writing the layers by hand showed every moving part. The library packages them with
# needle's module API: `nn.Linear` holds its weight and bias as `Parameter`s,
# `nn.Sequential` chains modules, `model.parameters()` collects every parameter, and
# an optimizer updates them on detached data. With two output scores per point and
# `nn.SoftmaxLoss` (cross-entropy against integer labels), and Adam instead of momentum:

# %%
from adjoint import nn, optim

model = nn.Sequential(
    nn.Linear(2, 16, rng=np.random.default_rng(0)),
    nn.Tanh(),
    nn.Linear(16, 16, rng=np.random.default_rng(1)),
    nn.Tanh(),
    nn.Linear(16, 2, rng=np.random.default_rng(2)),
)
labels = (y < 0).astype(np.int64)                  # class 0 for +1, class 1 for -1
inputs = ad.Tensor(X, requires_grad=False)
loss_fn_nn = nn.SoftmaxLoss()
optimizer = optim.Adam(model.parameters(), lr=0.05)
nn_losses = []
for step in range(200):
    loss = loss_fn_nn(model(inputs), labels)
    optimizer.reset_grad()
    loss.backward(create_graph=False)
    optimizer.step()
    nn_losses.append(float(loss))

with ad.no_grad():
    predicted = model(ad.Tensor(X_new, requires_grad=False)).numpy().argmax(axis=1)
nn_accuracy = float(np.mean(predicted == (y_new < 0)))
print(f"parameters: {sum(p.size for p in model.parameters())}; "
      f"loss {nn_losses[0]:.3f} -> {nn_losses[-1]:.4f}; accuracy on new points {nn_accuracy:.1%}")
assert nn_losses[-1] < 0.1 * nn_losses[0] and nn_accuracy > 0.95

fig, ax = plt.subplots(figsize=(5, 3))
ax.semilogy(losses, label="hand-written MLP, momentum")
ax.semilogy(nn_losses, label="nn.Sequential, Adam")
ax.set_xlabel("step")
ax.set_title("training loss")
ax.legend()
plt.show()

# %% [markdown]
# ## What to remember
#
# * Training is reverse mode at scale: one backward sweep gives the gradient with
#   respect to all 337 weights, at a cost of a small multiple of one forward pass.
# * `create_graph=False` for first-order training; the default keeps gradients as
#   graphs for higher derivatives.
# * Update weights on detached data, so no step's graph outlives it.
#
# The next notebook turns gradient graphs into formulas; notebook 8 trains a
# convolutional ResNet with `adjoint.nn` and `adjoint.optim`.
