"""Statistics with one owner each: information criteria and floors, search charges,
noise variance, likelihood-ratio tests, nonlinear least squares with standard errors.
"""

from .criteria import EXACT_RSS, aic, ebic, exact_floor, log_comb, small_sample
from .intervals import percentile_interval, t_interval
from .nls import NLSFit, NonlinearFit, Residual, fit_parameters, standard_errors
from .noise import noise_variance

__all__ = [
    "EXACT_RSS", "NLSFit", "NonlinearFit", "Residual", "aic", "ebic", "exact_floor",
    "fit_parameters", "log_comb", "noise_variance", "percentile_interval", "small_sample",
    "standard_errors", "t_interval",
]
