from .invalid_loss_hook import StopOnInvalidLossHook

__all__ = ['StopOnInvalidLossHook']
