from .init_args import bind_parent_init_args

__all__ = ['bind_parent_init_args']
