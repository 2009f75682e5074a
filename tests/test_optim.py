"""Optimizers against hand-computed updates and torch.optim; clipping; schedules."""
import math

import numpy as np
import pytest

from rnnscratch import optim
from rnnscratch.nn import Parameter


def _param(values, grad):
    p = Parameter(np.array(values, dtype=np.float64))
    p.grad[...] = grad
    return p


def test_sgd_momentum_by_hand():
    p = _param([1.0, -2.0], [0.5, 1.0])
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    opt.step()                                   # b = g; p = p - lr b
    np.testing.assert_allclose(p.data, [0.95, -2.1])
    opt.step()                                   # b = 0.9 g + g = 1.9 g
    np.testing.assert_allclose(p.data, [0.95 - 0.1 * 0.95, -2.1 - 0.19])


def test_adagrad_by_hand():
    p = _param([1.0, 2.0], [2.0, -1.0])
    opt = optim.Adagrad([p], lr=0.5, eps=0.0)
    opt.step()                                   # s = g^2; p -= lr g / |g| = lr sign(g)
    np.testing.assert_allclose(p.data, [0.5, 2.5])
    opt.step()                                   # s = 2 g^2; p -= lr g / (sqrt(2)|g|)
    np.testing.assert_allclose(p.data, [0.5 - 0.5 / math.sqrt(2), 2.5 + 0.5 / math.sqrt(2)])


def test_rmsprop_by_hand():
    p = _param([0.0, 0.0], [1.0, -3.0])
    optim.RMSprop([p], lr=0.1, alpha=0.9, eps=0.0).step()      # v = 0.1 g^2; step = lr g / (sqrt(0.1)|g|)
    np.testing.assert_allclose(p.data, [-0.1 / math.sqrt(0.1), 0.1 / math.sqrt(0.1)])


def test_adam_first_step_is_lr_times_sign():
    p = _param([1.0, 1.0], [0.3, -7.0])
    optim.Adam([p], lr=0.01, eps=0.0).step()                  # bias correction makes m/sqrt(v) = sign(g)
    np.testing.assert_allclose(p.data, [0.99, 1.01])


def test_adamw_decays_weights_directly():
    p = _param([2.0], [0.0])
    optim.AdamW([p], lr=0.1, weight_decay=0.5, eps=1.0).step()
    np.testing.assert_allclose(p.data, [2.0 * (1 - 0.05)])


OPTIMIZER_CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.05, momentum=0.5, dampening=0.3)),
    ("Adagrad", dict(lr=0.3)),
    ("Adagrad", dict(lr=0.3, weight_decay=0.1, initial_accumulator_value=0.1)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.01)),
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, betas=(0.8, 0.99), weight_decay=0.1)),
    ("AdamW", dict(lr=0.05, weight_decay=0.1)),
]


@pytest.mark.parametrize("name, hyper", OPTIMIZER_CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(OPTIMIZER_CASES)])
def test_trajectory_matches_torch_over_20_steps(name, hyper):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    A = rng.standard_normal((3, 3))
    start = rng.standard_normal(3)

    def grad_of(x):                          # gradient of a non-quadratic function
        return A.T @ np.tanh(A @ x) + 0.1 * x ** 3

    p = Parameter(start.copy())
    ours = getattr(optim, name)([p], **hyper)
    t = torch.tensor(start.copy(), requires_grad=True)
    theirs = getattr(torch.optim, name)([t], **hyper)
    for _ in range(20):
        p.grad[...] = grad_of(p.data)
        ours.step()
        t.grad = torch.tensor(grad_of(t.detach().numpy()))
        theirs.step()
    assert np.abs(p.data - t.detach().numpy()).max() < 1e-10


def test_clip_grad_norm_matches_torch_and_returns_pre_clip_norm():
    rng = np.random.default_rng(1)
    grads = [rng.standard_normal((3, 4)) * 5, rng.standard_normal(7)]
    params = [Parameter(np.zeros_like(g)) for g in grads]
    for p, g in zip(params, grads):
        p.grad[...] = g
    expected = math.sqrt(sum((g ** 2).sum() for g in grads))
    assert optim.clip_grad_norm_(params, 1.0) == pytest.approx(expected)
    assert optim.global_grad_norm(params) == pytest.approx(1.0, rel=1e-5)
    torch = pytest.importorskip("torch")
    ts = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for t, g in zip(ts, grads):
        t.grad = torch.tensor(g)
    assert torch.nn.utils.clip_grad_norm_(ts, 1.0).item() == pytest.approx(expected)
    for p, t in zip(params, ts):
        np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=1e-12)


def test_clip_grad_norm_leaves_small_gradients_alone():
    p = _param([0.0, 0.0], [0.3, 0.4])
    assert optim.clip_grad_norm_([p], 1.0) == pytest.approx(0.5)
    np.testing.assert_array_equal(p.grad, [0.3, 0.4])


def test_clip_grad_value():
    p = _param([0.0, 0.0, 0.0], [-9.0, 0.5, 7.0])
    optim.clip_grad_value_([p], 5.0)
    np.testing.assert_array_equal(p.grad, [-5.0, 0.5, 5.0])


def test_schedules():
    p = _param([0.0], [0.0])
    opt = optim.SGD([p], lr=1.0)
    step = optim.StepLR(opt, step_size=2, gamma=0.5)
    lrs = []
    for _ in range(5):
        step.step()
        lrs.append(opt.lr)
    assert lrs == [1.0, 0.5, 0.5, 0.25, 0.25]
    opt.lr = 1.0
    cos = optim.CosineAnnealingLR(opt, T_max=4, eta_min=0.1)
    for _ in range(4):
        cos.step()
    assert opt.lr == pytest.approx(0.1)
    cos2 = optim.CosineAnnealingLR(optim.SGD([p], lr=1.0), T_max=4)
    cos2.load_state_dict({"epoch": 2, "base_lr": 1.0})
    assert cos2.optimizer.lr == pytest.approx(0.5)


def test_state_dict_round_trip_continues_identically():
    a, b = _param([1.0, 2.0], [0.1, -0.2]), _param([1.0, 2.0], [0.1, -0.2])
    opt_a = optim.Adam([a], lr=0.1)
    opt_a.step()
    opt_b = optim.Adam([b], lr=0.1)
    b.data[...] = a.data
    opt_b.load_state_dict(opt_a.state_dict())
    opt_a.step()
    opt_b.step()
    np.testing.assert_array_equal(a.data, b.data)
    with pytest.raises(ValueError, match="optimizer state is for Adam, this optimizer is SGD"):
        optim.SGD([a]).load_state_dict(opt_a.state_dict())


def test_bad_optimizer_arguments():
    p = _param([0.0], [0.0])
    with pytest.raises(TypeError, match="unknown argument\\(s\\) \\['momentum'\\]"):
        optim.Adam([p], momentum=0.9)
    with pytest.raises(ValueError, match="lr: expected a finite number >= 0, got -1"):
        optim.SGD([p], lr=-1)
    with pytest.raises(ValueError, match="params: the optimizer got an empty parameter list"):
        optim.SGD([])
    with pytest.raises(ValueError, match="nesterov: needs momentum > 0"):
        optim.SGD([p], nesterov=True)


def test_clip_grad_norm_with_a_given_norm_uses_it():
    p = _param([0.0, 0.0], [3.0, 4.0])
    assert optim.clip_grad_norm_([p], 1.0, total_norm=5.0) == 5.0
    np.testing.assert_allclose(p.grad, [0.6, 0.8], rtol=1e-6)


@pytest.mark.parametrize("name, hyper, message", [
    ("Adam", dict(lr=float("nan")), "lr: expected a finite number >= 0, got nan"),
    ("SGD", dict(lr=-0.1), "lr: expected a finite number >= 0, got -0.1"),
    ("Adam", dict(lr=float("inf")), "lr: expected a finite number >= 0, got inf"),
    ("AdamW", dict(weight_decay=-0.01), "weight_decay: expected a finite number >= 0, got -0.01"),
    ("Adam", dict(weight_decay=float("nan")), "weight_decay: expected a finite number >= 0, got nan"),
    ("Adam", dict(betas=(0.9, 1.0)), r"betas\[1\]: expected a finite number in \[0, 1\), got 1.0"),
    ("Adam", dict(betas=(-0.1, 0.9)), r"betas\[0\]: expected a finite number in \[0, 1\), got -0.1"),
    ("Adam", dict(betas=0.9), r"betas: expected a pair \(beta1, beta2\), got 0.9"),
    ("Adam", dict(eps=-1e-8), "eps: expected a finite number >= 0, got -1e-08"),
    ("SGD", dict(momentum=-0.9), "momentum: expected a finite number >= 0, got -0.9"),
    ("RMSprop", dict(alpha=float("nan")), "alpha: expected a finite number >= 0, got nan"),
    ("Adagrad", dict(initial_accumulator_value=-1), "initial_accumulator_value: expected a finite number >= 0"),
])
def test_hyper_parameters_pytorch_refuses_are_refused(name, hyper, message):
    with pytest.raises(ValueError, match=message):
        getattr(optim, name)([Parameter(np.zeros(2))], **hyper)


def test_lr_set_later_is_checked_too():
    opt = optim.SGD([Parameter(np.zeros(2))], lr=0.1)
    with pytest.raises(ValueError, match="lr: expected a finite number >= 0, got nan"):
        opt.lr = float("nan")
    assert opt.lr == 0.1


def test_state_dict_with_nan_buffers_or_bad_hyper_parameters_is_refused():
    p = Parameter(np.ones(3))
    p.grad[...] = 1.0
    opt = optim.Adam([p], lr=0.1)
    opt.step()
    saved = opt.state_dict()
    saved["state"][0]["exp_avg"][1] = np.nan
    fresh = optim.Adam([Parameter(np.ones(3))], lr=0.1)
    with pytest.raises(ValueError, match="buffer 'exp_avg' of parameter 0 holds NaN or inf"):
        fresh.load_state_dict(saved)
    assert fresh.steps == 0 and fresh.state == [{}]          # nothing half-loaded
    saved = opt.state_dict()
    saved["hyper"]["lr"] = float("inf")
    with pytest.raises(ValueError, match="lr: expected a finite number >= 0, got inf"):
        fresh.load_state_dict(saved)


@pytest.mark.parametrize("clip, value", [(optim.clip_grad_norm_, 0), (optim.clip_grad_norm_, -1.0),
                                         (optim.clip_grad_norm_, float("nan")), (optim.clip_grad_value_, 0),
                                         (optim.clip_grad_value_, -5.0), (optim.clip_grad_value_, float("nan"))])
def test_clipping_thresholds_must_be_positive(clip, value):
    p = Parameter(np.ones(3))
    p.grad[...] = 2.0
    with pytest.raises(ValueError, match=r"(max_norm|clip_value): expected a finite number > 0"):
        clip([p], value)
    np.testing.assert_array_equal(p.grad, 2.0)               # a refused clip leaves the gradients alone


# -- frozen parameters (requires_grad = False) ------------------------------------------------------
FREEZE_CASES = [(name, dict(lr=0.1, weight_decay=0.1)) for name in optim.OPTIMIZERS if name != "sgd"] + \
    [("sgd", dict(lr=0.1, momentum=0.9, weight_decay=0.1)), ("sgd", dict(lr=0.1, momentum=0.9, nesterov=True))]


@pytest.mark.parametrize("name, hyper", FREEZE_CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(FREEZE_CASES)])
def test_a_frozen_parameter_is_bit_identical_after_steps_and_the_others_move(name, hyper):
    rng = np.random.default_rng(3)
    frozen, trained = Parameter(rng.standard_normal((3, 2))), Parameter(rng.standard_normal(4))
    frozen.requires_grad = False
    before, start = frozen.data.copy(), trained.data.copy()
    opt = optim.OPTIMIZERS[name]([frozen, trained], **hyper)
    for _ in range(3):
        for p in (frozen, trained):
            p.grad[...] = rng.standard_normal(p.shape)      # a gradient a module computed anyway
        opt.step()
    np.testing.assert_array_equal(frozen.data, before)
    assert opt.state[0] == {}                                 # no buffers for it either
    assert not np.array_equal(trained.data, start)
    # the trainable one follows the same trajectory as an optimizer that never saw the frozen one
    rng = np.random.default_rng(3)
    rng.standard_normal((3, 2))
    alone = Parameter(rng.standard_normal(4))
    opt_alone = optim.OPTIMIZERS[name]([alone], **hyper)
    for _ in range(3):
        rng.standard_normal((3, 2))
        alone.grad[...] = rng.standard_normal(4)
        opt_alone.step()
    np.testing.assert_array_equal(trained.data, alone.data)


def test_clipping_neither_counts_nor_scales_frozen_gradients():
    frozen, trained = _param([0.0, 0.0], [30.0, 40.0]), _param([0.0, 0.0], [3.0, 4.0])
    frozen.requires_grad = False
    assert optim.global_grad_norm([frozen, trained]) == pytest.approx(5.0)
    assert optim.clip_grad_norm_([frozen, trained], 1.0) == pytest.approx(5.0)
    np.testing.assert_allclose(trained.grad, [0.6, 0.8], rtol=1e-6)
    np.testing.assert_array_equal(frozen.grad, [30.0, 40.0])
    optim.clip_grad_value_([frozen, trained], 0.5)
    np.testing.assert_array_equal(frozen.grad, [30.0, 40.0])
    np.testing.assert_array_equal(trained.grad, [0.5, 0.5])
    assert optim.trainable([frozen, trained]) == [trained]


def test_freezing_matches_torch_requires_grad_false():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    values = [rng.standard_normal(3), rng.standard_normal(2)]
    ours = [Parameter(v.copy()) for v in values]
    ours[0].requires_grad = False
    theirs = [torch.tensor(v.copy(), requires_grad=k == 1) for k, v in enumerate(values)]
    opt, topt = optim.AdamW(ours, lr=0.1), torch.optim.AdamW(theirs, lr=0.1)
    for _ in range(4):
        g = rng.standard_normal(2)
        ours[1].grad[...] = g
        ours[0].grad[...] = 1.0
        theirs[1].grad = torch.tensor(g)
        optim.clip_grad_norm_(ours, 0.5)
        torch.nn.utils.clip_grad_norm_(theirs, 0.5)
        opt.step()
        topt.step()
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.data, t.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_clipping_and_steps_take_any_object_with_data_and_grad():
    """The course's exercises hand plain namespaces (``.data``, ``.grad``) to the optimizers and clipping: no
    ``requires_grad`` attribute means trainable, as a Parameter's default."""
    from types import SimpleNamespace
    p = SimpleNamespace(data=np.ones(3), grad=np.full(3, 4.0))
    assert optim.clip_grad_norm_([p], 1.0) == pytest.approx(np.sqrt(48.0))
    np.testing.assert_allclose(np.linalg.norm(p.grad), 1.0, rtol=1e-5)       # max_norm / (norm + 1e-6)
    optim.SGD([p], lr=1.0).step()
    np.testing.assert_allclose(p.data, 1.0 - p.grad)
