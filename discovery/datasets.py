"""Built-in data: the cannon study."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["cannon_data", "CANNON_TRUTH", "G"]

G = 9.81
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
