from .preflight import Problem, PreflightError, preflight

__all__ = ['Problem', 'PreflightError', 'preflight']
