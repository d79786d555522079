"""Built-in data: the cannon study, and the cannon with air drag (trajectories)."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["cannon_data", "cannon_drag_data", "CANNON_TRUTH", "DRAG", "G"]

G = 9.81
#: Drag per unit mass (1/m) of :func:`cannon_drag_data`: a.k.a. ρ C_d A/(2m).
DRAG = 0.01
#: The law behind the cannon data, with g a named constant.
CANNON_TRUTH = "v**2*sin(2*theta)/g"


def cannon_data(n: int = 1000, *, noise: float = 0.01, g: float = G,
                v_range: tuple[float, float] = (0.0, 10.0),
                theta_range: tuple[float, float] = (0.0, np.pi / 2),
                random_state: int | None = 0) -> pd.DataFrame:
    """Shots of a cannon: speed ``v``, angle ``theta`` (radians), range ``s``.

    ``s = v² sin(2θ)/g + N(0, noise²)``, negative ranges clipped to 0, with
    ``v ~ U(v_range)`` and ``θ ~ U(theta_range)``.

    Examples
    --------
    >>> df = cannon_data(5, random_state=0)
    >>> list(df.columns), len(df)
    (['v', 'theta', 's'], 5)
    """
    rng = np.random.default_rng(random_state)
    v = rng.uniform(*v_range, size=n)
    theta = rng.uniform(*theta_range, size=n)
    s = v**2 * np.sin(2 * theta) / g + rng.normal(0.0, noise, size=n)
    return pd.DataFrame({"v": v, "theta": theta, "s": np.clip(s, 0.0, None)})


def cannon_drag_data(shots: int = 6, *, noise: float = 0.01, g: float = G, k: float = DRAG,
                     rate: float = 100.0, random_state: int | None = 0) -> pd.DataFrame:
    """Measured positions of cannon shots with quadratic air drag.

    ``dvx/dt = −k·|v|·vx``, ``dvy/dt = −g − k·|v|·vy``, ``v = (vx, vy)``, from
    the muzzle at the origin with speed ``U(30, 60)`` m/s and elevation
    ``U(20°, 70°)``, sampled at ``rate`` Hz until the shot lands. Positions
    ``x``, ``y`` carry Gaussian noise of ``noise`` times their RMS over all
    shots. Columns: ``shot``, ``t``, ``x``, ``y``.

    Examples
    --------
    >>> df = cannon_drag_data(2, random_state=0)
    >>> list(df.columns), sorted(df["shot"].unique().tolist())
    (['shot', 't', 'x', 'y'], [0, 1])
    """
    from scipy.integrate import solve_ivp

    rng = np.random.default_rng(random_state)

    def motion(_: float, z: np.ndarray) -> list[float]:
        _, _, vx, vy = z
        speed = float(np.hypot(vx, vy))
        return [vx, vy, -k * speed * vx, -g - k * speed * vy]

    def landed(_: float, z: np.ndarray) -> float:
        return float(z[1])

    landed.terminal = True  # type: ignore[attr-defined]
    landed.direction = -1  # type: ignore[attr-defined]
    frames = []
    for shot in range(shots):
        speed, angle = rng.uniform(30, 60), np.radians(rng.uniform(20, 70))
        start = [0.0, 0.0, speed * np.cos(angle), speed * np.sin(angle)]
        flight = solve_ivp(motion, (0, 60), start, events=landed, rtol=1e-10, atol=1e-10)
        t = np.arange(0.0, float(flight.t[-1]), 1 / rate)
        path = solve_ivp(motion, (0, t[-1]), start, t_eval=t, rtol=1e-10, atol=1e-10)
        frames.append(pd.DataFrame({"shot": shot, "t": t, "x": path.y[0], "y": path.y[1]}))
    data = pd.concat(frames, ignore_index=True)
    for column in ("x", "y"):
        scale = float(np.sqrt(np.mean(data[column] ** 2)))
        data[column] = data[column] + rng.normal(0.0, noise * scale, len(data))
    return data
