"""Module repr: a tree of sub-modules, named as in state_dict, with parameter counts."""

import adjoint as ad
from adjoint import nn


def test_a_model_prints_as_a_tree_with_parameter_counts():
    model = nn.Sequential(
        nn.Linear(784, 16),  # 784 * 16 + 16 = 12,560
        nn.ReLU(),
        nn.Residual(nn.Sequential(nn.Linear(16, 8), nn.BatchNorm1d(8), nn.Linear(8, 16))),
        nn.Dropout(0.25),
        nn.Linear(16, 10, bias=False),  # 160
    )
    # the residual: 16 * 8 + 8 + 2 * 8 + 8 * 16 + 16 = 296
    assert repr(model) == (
        "Sequential(  # 13,016 parameters\n"
        "  (0): Linear(784, 16, bias=True)  # 12,560 parameters\n"
        "  (1): ReLU()\n"
        "  (2): Residual(  # 296 parameters\n"
        "    (fn): Sequential(  # 296 parameters\n"
        "      (0): Linear(16, 8, bias=True)  # 136 parameters\n"
        "      (1): BatchNorm1d(8, eps=1e-05)  # 16 parameters\n"
        "      (2): Linear(8, 16, bias=True)  # 144 parameters\n"
        "    )\n"
        "  )\n"
        "  (3): Dropout(p=0.25)\n"
        "  (4): Linear(16, 10, bias=False)  # 160 parameters\n"
        ")"
    )
    assert sum(p.size for p in model.parameters()) == 13_016


def test_user_modules_children_in_containers_shared_layers_and_extra_repr():
    class Head(nn.Module):
        def __init__(self, shared):
            super().__init__()
            self.scale = nn.Parameter(ad.Tensor([1.0]))
            self.parts = {"a": shared, "b": [nn.Tanh(), shared]}

        def extra_repr(self):
            return "shared twice"

    shared = nn.Linear(2, 2)  # 6 parameters, counted once
    assert repr(Head(shared)) == (
        "Head(shared twice  # 7 parameters\n"
        "  (parts.a): Linear(2, 2, bias=True)  # 6 parameters\n"
        "  (parts.b.0): Tanh()\n"
        "  (parts.b.1): Linear(2, 2, bias=True)  # 6 parameters\n"
        ")"
    )
    one = nn.Module()
    one.w = nn.Parameter(ad.Tensor(0.5))
    assert repr(one) == "Module()  # 1 parameter"
    assert repr(nn.MaxPool2d(2)) == "MaxPool2d(kernel_size=2, stride=None, padding=0)"
    assert repr(nn.Conv(3, 8, 3)).startswith("Conv(3, 8, kernel_size=3, stride=1, padding=1")
