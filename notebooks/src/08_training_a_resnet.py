# %% [markdown]
# # 8. Training a ResNet
#
# In notebook 6 we trained a small perceptron written with raw ops. Real networks are
# built from *layers*: objects that own their weights and know how to apply them. adjoint
# ships needle's layer API in `adjoint.nn`, optimizers in `adjoint.optim` and batching in
# `adjoint.data`. Every layer is a composition of adjoint ops, so none of them has any
# gradient code of its own.
#
# Here we build a small residual network (convolutions, batch norm, skip connections,
# global pooling, a linear head) and teach it to read the 8×8 handwritten digits that
# scikit-learn ships with its package, all on NumPy.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from threadpoolctl import threadpool_limits

import adjoint as ad
from adjoint import data, nn, optim

# Our matrices are small (at most 4096 x 288): one BLAS thread is faster than several.
blas_threads = threadpool_limits(1, user_api="blas")

# %% [markdown]
# ## The data
#
# 1797 grayscale images of 8×8 pixels with values 0 to 16, and their labels 0 to 9. We
# scale them to [0, 1], give them a channel axis (adjoint's images are NCHW: batch,
# channel, height, width) and hold out a fifth of each class, chosen with a seeded
# generator, as the test set.

# %%
digits = load_digits()
images = (digits.images / 16.0)[:, None, :, :]
labels = digits.target

rng = np.random.default_rng(0)
is_test = np.zeros(len(labels), dtype=bool)
for k in range(10):
    members = rng.permutation(np.flatnonzero(labels == k))
    is_test[members[: round(0.2 * len(members))]] = True
x_train, y_train = images[~is_test], labels[~is_test]
x_test, y_test = images[is_test], labels[is_test]
print("train", x_train.shape, "test", x_test.shape)

fig, axes = plt.subplots(1, 10, figsize=(10, 1.3))
for ax, img, label in zip(axes, x_train, y_train):
    ax.imshow(img[0], cmap="gray_r")
    ax.set_title(str(label))
    ax.axis("off")
plt.show()

# %% [markdown]
# ## A convolution is a matrix product
#
# `ad.conv2d` copies every 3×3 window of the image into a row (`im2col`) and multiplies
# the rows by the kernel, reshaped to a matrix. `im2col` only copies numbers around: it
# is *linear*, so its gradient is its adjoint (its transpose), `col2im`, which adds each
# row back into the window it came from. And the adjoint of `col2im` is `im2col` again.
# The pair is each other's gradient, like `reshape`/`reshape` or
# `broadcast_to`/`summation`, which is why a convolution is differentiable to any order
# without a line of convolution-specific gradient code.
#
# Here is that adjoint identity, ⟨im2col x, y⟩ = ⟨x, col2im y⟩, checked on random data:

# %%
x = rng.standard_normal((2, 3, 8, 8))
cols = ad.im2col(ad.Tensor(x), 3, stride=1, padding=1)
print("rows:", cols.shape, "= (N, OH, OW, KH, KW, C)")
y = rng.standard_normal(cols.shape)
lhs = np.sum(cols.numpy() * y)
rhs = np.sum(x * ad.col2im(ad.Tensor(y), x.shape, 3, stride=1, padding=1).numpy())
print(lhs, rhs)
assert np.isclose(lhs, rhs)

# %% [markdown]
# ## The model, from layers
#
# A *basic block* of a ResNet computes relu(x + f(x)) where f is conv, batch norm, relu,
# conv, batch norm: the block learns a correction to the identity, which keeps deep
# networks trainable. Ours: a 3×3 convolution to 16 channels, one block, a stride-2
# convolution to 32 channels (4×4 pixels), another block, the mean over the pixels, and a
# linear layer to the 10 class scores. Convolution weights have needle's layout
# (KH, KW, C_in, C_out).

# %%
def conv_bn_relu(c_in, c_out, stride=1):
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(),
    )


def basic_block(c):
    return nn.Sequential(
        nn.Residual(
            nn.Sequential(
                conv_bn_relu(c, c), nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)
            )
        ),
        nn.ReLU(),
    )


np.random.seed(0)  # layers draw their initial weights from NumPy's global generator
model = nn.Sequential(
    conv_bn_relu(1, 16),
    basic_block(16),
    conv_bn_relu(16, 32, stride=2),
    basic_block(32),
    nn.GlobalAvgPool2d(),
    nn.Linear(32, 10),
)
print(model)
print(sum(p.size for p in model.parameters()), "parameters in", len(model.parameters()), "tensors")

# %% [markdown]
# ## Training
#
# The loop is the one every framework uses: a forward pass, the loss, `reset_grad`,
# `backward`, `step`. Two details:
#
# * `loss.backward(create_graph=False)`: the optimizer needs only first derivatives, so
#   the gradients are plain constants rather than graphs (cheaper).
# * the optimizer updates the weights' NumPy data in place of the old values, outside any
#   graph, so the graph never grows from step to step.
#
# The loader reshuffles every epoch from its own seeded generator. A short run of four
# epochs already does well; `examples/train_resnet_digits.py` trains longer.

# %%
train_loader = data.DataLoader(data.NDArrayDataset(x_train, y_train), 64, shuffle=True, rng=0)
test_loader = data.DataLoader(data.NDArrayDataset(x_test, y_test), 512)
loss_fn = nn.SoftmaxLoss()
opt = optim.Adam(model.parameters(), lr=0.01, weight_decay=1e-4)


def evaluate(model, loader):
    model.eval()
    with ad.no_grad():
        logits = np.concatenate([model(x).numpy() for x, _ in loader])
    targets = np.concatenate([y.numpy() for _, y in loader])
    loss = float(loss_fn(ad.Tensor(logits), targets))
    return loss, np.mean(logits.argmax(1) == targets), logits


history = {"train loss": [], "test loss": [], "test accuracy": []}
epochs = 4
start = time.perf_counter()
for epoch in range(epochs):
    opt.lr = 0.01 * 0.5 * (1 + np.cos(np.pi * epoch / epochs))  # cosine decay
    model.train()
    losses = []
    for x, y in train_loader:
        loss = loss_fn(model(x), y)
        opt.reset_grad()
        loss.backward(create_graph=False)
        opt.step()
        losses.append(float(loss))
    test_loss, test_accuracy, _ = evaluate(model, test_loader)
    history["train loss"].append(np.mean(losses))
    history["test loss"].append(test_loss)
    history["test accuracy"].append(test_accuracy)
    print(f"epoch {epoch + 1}: train loss {np.mean(losses):.3f}  "
          f"test loss {test_loss:.3f}  test accuracy {test_accuracy:.3f}")
print(f"{time.perf_counter() - start:.1f} s")

# %% [markdown]
# Chance is 10%. The held-out accuracy after this short, seeded run:

# %%
final_accuracy = history["test accuracy"][-1]
print(f"test accuracy {final_accuracy:.3f}")
assert final_accuracy > 0.95

# %% [markdown]
# ## The curves

# %%
fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.2))
steps = np.arange(1, epochs + 1)
ax_loss.plot(steps, history["train loss"], "o-", label="train")
ax_loss.plot(steps, history["test loss"], "o--", label="test")
ax_loss.set(xlabel="epoch", ylabel="softmax loss", yscale="log", title="loss")
ax_loss.legend()
ax_acc.plot(steps, history["test accuracy"], "o-", color="C2")
ax_acc.set(xlabel="epoch", ylabel="accuracy", title="test accuracy")
for ax in (ax_loss, ax_acc):
    ax.set_xticks(steps)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## What it gets wrong
#
# The test digits the network misreads, with its guess and the true label. Several are
# hard for people too.

# %%
_, _, logits = evaluate(model, test_loader)
predicted = logits.argmax(1)
wrong = np.flatnonzero(predicted != y_test)
print(len(wrong), "of", len(y_test), "test digits misclassified")
shown = wrong[:12]
fig, axes = plt.subplots(1, max(len(shown), 1), figsize=(1.2 * max(len(shown), 1), 1.6))
for ax, i in zip(np.atleast_1d(axes), shown):
    ax.imshow(x_test[i, 0], cmap="gray_r")
    ax.set_title(f"{predicted[i]} (not {y_test[i]})", fontsize=9)
for ax in np.atleast_1d(axes):
    ax.axis("off")
plt.show()

# %% [markdown]
# ## Second derivatives through the whole network
#
# Nothing in the layers is special-cased for first order. With `create_graph=True` (the
# default of `backward`) the gradient of the loss with respect to the input images is
# itself a graph, through every convolution, batch norm, skip connection and pooling, and
# differentiating ⟨gradient, u⟩ again gives the Hessian-vector product H u.
#
# Two properties to check it by. A Hessian is symmetric: ⟨H u, v⟩ = ⟨u, H v⟩. And in eval
# mode this network is piecewise linear in its input (relu, and batch norm with fixed
# statistics, are linear pieces), so H = Jᵀ S J where S is the Hessian of the softmax
# loss in the logits, which is positive semi-definite: ⟨u, H u⟩ ≥ 0. (Finite differences
# are a poor judge here: relu's kinks sit close to some activations, and a difference
# step that crosses one sees a jump that no derivative has.)

# %%
model.eval()
images = ad.Tensor(x_test[:8])
loss = loss_fn(model(images), y_test[:8])
loss.backward()                        # images.grad: a graph, ready to differentiate again
gradient = images.grad


def hessian_times(direction):
    (gradient * ad.Tensor(direction, requires_grad=False)).sum().backward()
    return images.grad.numpy()


u, v = rng.standard_normal(images.shape), rng.standard_normal(images.shape)
Hu, Hv = hessian_times(u), hessian_times(v)
print("<Hu, v> =", np.sum(Hu * v), "  <u, Hv> =", np.sum(u * Hv))
print("<u, Hu> =", np.sum(u * Hu))
assert np.isclose(np.sum(Hu * v), np.sum(u * Hv), rtol=1e-9)
assert np.sum(u * Hu) >= 0
