# Copyright (c) feather-mmdet contributors. All rights reserved.
"""Argument binding for drop-in subclasses of mmdet modules."""
import inspect
from typing import Any, Dict

from feather_mmdet.utils.suggest import did_you_mean


def bind_parent_init_args(cls: type, parent: type, *args,
                          **kwargs) -> Dict[str, Any]:
    """Bind constructor arguments as ``parent.__init__`` would receive them.

    A drop-in subclass must accept exactly what its parent accepts, positional
    arguments included, and sometimes needs to read one of them (e.g.
    ``zero_init_residual``) before the parent's constructor runs. Binding
    against the parent's signature gives those values with the parent's
    defaults, and turns a misspelt keyword into an error that names the
    closest valid one, before anything is built.

    Args:
        cls (type): The subclass being constructed (named in errors).
        parent (type): The mmdet class whose ``__init__`` takes the arguments.
        *args: Positional arguments, as given to ``cls``.
        **kwargs: Keyword arguments, as given to ``cls``.

    Returns:
        dict: Every parameter of ``parent.__init__`` (``self`` excluded) with
        its given or default value.

    Raises:
        TypeError: An unknown keyword (with a did-you-mean hint) or a wrong
            number of positional arguments.
    """
    signature = inspect.signature(parent.__init__)
    own = [
        n for n, p in inspect.signature(cls.__init__).parameters.items()
        if p.kind is p.KEYWORD_ONLY
    ]
    names = [n for n in signature.parameters if n != 'self'] + own
    takes_any = any(p.kind is p.VAR_KEYWORD
                    for p in signature.parameters.values())
    unknown = [] if takes_any else [
        k for k in kwargs if k not in signature.parameters
    ]
    if unknown:
        hint = did_you_mean(unknown[0], names,
                            f'valid arguments are {names}.')
        raise TypeError(f'{cls.__name__} got an unexpected keyword argument '
                        f'{unknown[0]!r}; {hint}')
    try:
        bound = signature.bind(None, *args, **kwargs)
    except TypeError as e:
        raise TypeError(f'{cls.__name__}: {e}') from None
    bound.apply_defaults()
    arguments = dict(bound.arguments)
    arguments.pop('self', None)
    return arguments
