from .preflight import PreflightError, Problem, preflight

__all__ = ['Problem', 'PreflightError', 'preflight']
