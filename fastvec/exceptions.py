"""Exceptions raised by fastvec (all subclass built-in types users already catch)."""
from fastvec._io import FormatError


class DivergenceError(FloatingPointError):
    """Training produced NaN or infinite values: the learning rate is too high for the data."""


class NotFittedError(AttributeError):
    """The estimator has not been fitted (or loaded) yet."""


__all__ = ["DivergenceError", "FormatError", "NotFittedError"]
