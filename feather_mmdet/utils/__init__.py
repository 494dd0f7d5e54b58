from .config import load_config
from .preflight import PreflightError, Problem, preflight

__all__ = ['Problem', 'PreflightError', 'load_config', 'preflight']
