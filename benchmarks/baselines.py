"""The cannon study's baselines, implemented as the study describes them.

Each baseline has ``fit(X, y)``, ``predict(X)``, ``n_params`` and ``formula``
(a string, or None for a black box). ``X`` is an (n, d) float array whose
columns are named by ``inputs``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import sympy
import torch
from tqdm.auto import tqdm

from basis_library import resolve_device
from discovery import discover

__all__ = ["Baseline", "NearestNeighbour", "LinearSGD", "LinearLeastSquares", "MLP",
           "BasisAdam", "BasisLeastSquares", "Discovery", "HAND_PICKED"]

#: The study's six hand-picked terms.
HAND_PICKED = ("v", "v**2", "v*sin(theta)", "v*sin(2*theta)", "v**2*sin(theta)",
               "v**2*sin(2*theta)")


@dataclass
class Baseline:
    """Common fields: a name, the input names, and the device to train on."""

    inputs: Sequence[str] = ("v", "theta")
    device: str = "auto"
    seed: int = 0
    progress: bool = False
    name: str = "baseline"
    fit_seconds: float = field(default=math.nan, init=False)

    @property
    def n_params(self) -> int:
        raise NotImplementedError

    @property
    def formula(self) -> str | None:
        return None

    def fit(self, X: np.ndarray, y: np.ndarray) -> Baseline:
        started = time.perf_counter()
        self._fit(np.asarray(X, dtype=float), np.asarray(y, dtype=float))
        self.fit_seconds = time.perf_counter() - started
        return self

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        raise NotImplementedError

    def predict(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _device(self) -> torch.device:
        return resolve_device(self.device)

    def _bar(self, total: int, desc: str):  # noqa: ANN202
        return tqdm(range(total), desc=desc, leave=False, disable=not self.progress,
                    mininterval=0.5)


@dataclass
class NearestNeighbour(Baseline):
    """Model-less: the target of the nearest training point (L2 on the inputs)."""

    name: str = "nearest neighbour"
    chunk: int = 65_536

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        self._X = torch.tensor(X, device=self._device())
        self._y = y.copy()

    @property
    def n_params(self) -> int:
        return int(self._X.numel() + self._y.size)  # it stores the data

    def predict(self, X: np.ndarray) -> np.ndarray:
        Xq = torch.tensor(np.asarray(X, dtype=float), device=self._X.device)
        index = torch.cat([torch.cdist(Xq[i:i + self.chunk], self._X).argmin(dim=1)
                           for i in range(0, Xq.shape[0], self.chunk)])
        return self._y[index.cpu().numpy()]


def _affine_formula(names: Sequence[str], weights: np.ndarray, bias: float) -> str:
    terms = [sympy.Float(w, 6) * sympy.Symbol(n) for w, n in zip(weights, names)]
    return str(sympy.Add(*terms, sympy.Float(bias, 6)))


@dataclass
class LinearSGD(Baseline):
    """``s = w1 v + w2 θ + b`` by full-batch SGD on the MSE (weights start at zero)."""

    name: str = "linear (SGD)"
    lr: float = 0.01
    epochs: int = 500

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        device = self._device()
        Xt = torch.tensor(X, device=device)
        yt = torch.tensor(y, device=device)
        w = torch.zeros(X.shape[1], dtype=Xt.dtype, device=device, requires_grad=True)
        b = torch.zeros((), dtype=Xt.dtype, device=device, requires_grad=True)
        optimiser = torch.optim.SGD([w, b], lr=self.lr)
        for _ in self._bar(self.epochs, self.name):
            optimiser.zero_grad()
            loss = ((Xt @ w + b - yt) ** 2).mean()
            loss.backward()
            optimiser.step()
        self.weights, self.bias = w.detach().cpu().numpy(), float(b.detach())

    @property
    def n_params(self) -> int:
        return len(self.weights) + 1

    @property
    def formula(self) -> str:
        return _affine_formula(self.inputs, self.weights, self.bias)

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(X, dtype=float) @ self.weights + self.bias


@dataclass
class LinearLeastSquares(LinearSGD):
    """The same linear model by closed-form least squares, for reference."""

    name: str = "linear (least squares)"

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        A = np.column_stack([X, np.ones(len(X))])
        coef, *_ = np.linalg.lstsq(A, y, rcond=None)
        self.weights, self.bias = coef[:-1], float(coef[-1])


@dataclass
class MLP(Baseline):
    """Black box: Linear(d,256) → Sigmoid → Linear(256,256) → Sigmoid → Linear(256,1).

    Adam (lr 0.01), full-batch MSE, float32, on the GPU when one is present.
    ``standardize`` scales inputs and target (the study fed raw values).
    """

    name: str = "MLP (black box)"
    hidden: int = 256
    lr: float = 0.01
    epochs: int = 1000
    standardize: bool = False
    batch: int = 262_144

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        device = self._device()
        self._shift = X.mean(axis=0) if self.standardize else np.zeros(X.shape[1])
        self._scale = X.std(axis=0) + 1e-12 if self.standardize else np.ones(X.shape[1])
        self._y_shift = float(y.mean()) if self.standardize else 0.0
        self._y_scale = float(y.std() + 1e-12) if self.standardize else 1.0
        with torch.random.fork_rng(devices=[]):  # seeded init without global seeding
            torch.manual_seed(self.seed)
            d, h = X.shape[1], self.hidden
            self.net = torch.nn.Sequential(
                torch.nn.Linear(d, h), torch.nn.Sigmoid(), torch.nn.Linear(h, h),
                torch.nn.Sigmoid(), torch.nn.Linear(h, 1)).to(device)
        Xt = torch.tensor((X - self._shift) / self._scale, dtype=torch.float32, device=device)
        yt = torch.tensor((y - self._y_shift) / self._y_scale, dtype=torch.float32,
                             device=device)[:, None]
        optimiser = torch.optim.Adam(self.net.parameters(), lr=self.lr)
        for _ in self._bar(self.epochs, self.name):
            optimiser.zero_grad()
            loss = ((self.net(Xt) - yt) ** 2).mean()
            loss.backward()
            optimiser.step()

    @property
    def n_params(self) -> int:
        return sum(p.numel() for p in self.net.parameters())

    def predict(self, X: np.ndarray) -> np.ndarray:
        device = next(self.net.parameters()).device
        Xs = (np.asarray(X, dtype=float) - self._shift) / self._scale
        out = []
        with torch.no_grad():
            for i in range(0, len(Xs), self.batch):
                chunk = torch.tensor(Xs[i:i + self.batch], dtype=torch.float32, device=device)
                out.append(self.net(chunk)[:, 0].double().cpu().numpy())
        return np.concatenate(out) * self._y_scale + self._y_shift if out else np.zeros(0)


@dataclass
class BasisAdam(Baseline):
    """The study's regression on hand-picked terms, by Adam (lr 0.1, 5000 epochs)."""

    name: str = "hand-picked basis (Adam)"
    terms: Sequence[str] = HAND_PICKED
    lr: float = 0.1
    epochs: int = 5000

    def _features(self, X: np.ndarray) -> np.ndarray:
        symbols = [sympy.Symbol(n) for n in self.inputs]
        from basis_library import parse_expression

        table = dict(zip(self.inputs, symbols))
        exprs = [parse_expression(t, table, allow_new_symbols=False) for t in self.terms]
        f = sympy.lambdify(symbols, exprs, modules="numpy")
        columns = f(*[X[:, j] for j in range(X.shape[1])])
        return np.column_stack([np.broadcast_to(c, (len(X),)) for c in columns])

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        device = self._device()
        F = torch.tensor(self._features(X), device=device)
        yt = torch.tensor(y, device=device)
        w = torch.zeros(F.shape[1], dtype=F.dtype, device=device, requires_grad=True)
        optimiser = torch.optim.Adam([w], lr=self.lr)
        for _ in self._bar(self.epochs, self.name):
            optimiser.zero_grad()
            loss = ((F @ w - yt) ** 2).mean()
            loss.backward()
            optimiser.step()
        self.coef = w.detach().cpu().numpy()

    @property
    def n_params(self) -> int:
        return len(self.terms)

    @property
    def formula(self) -> str:
        return " + ".join(f"{c:.4g}*{t}" for c, t in zip(self.coef, self.terms))

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self._features(np.asarray(X, dtype=float)) @ self.coef


@dataclass
class BasisLeastSquares(BasisAdam):
    """The hand-picked terms by least squares."""

    name: str = "hand-picked basis (least squares)"

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        self.coef, *_ = np.linalg.lstsq(self._features(X), y, rcond=None)


@dataclass
class Discovery(Baseline):
    """This project's ``discover`` with its default (auto) library."""

    name: str = "discover (this project)"
    constants: dict[str, float] | None = None
    method: str = "sparse"
    time_limit: float | None = None

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        data = {n: X[:, j] for j, n in enumerate(self.inputs)}
        data["__target__"] = y
        # The study compares fits and predictions; intervals (the bootstrap) are
        # timed by benchmarks.uncertainty.
        self.model = discover(data, target="__target__", constants=self.constants,
                              method=self.method, device=self.device, random_state=self.seed,
                              time_limit=self.time_limit, n_bootstrap=0)

    @property
    def n_params(self) -> int:
        return len(self.model.terms)

    @property
    def formula(self) -> str:
        return str(self.model.expression)

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.model.predict(np.asarray(X, dtype=float))
