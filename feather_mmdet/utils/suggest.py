# Copyright (c) feather-mmdet contributors. All rights reserved.
"""The one "did you mean" of this package (module arguments, preflight)."""
import difflib
from typing import Iterable


def did_you_mean(word: str, candidates: Iterable[str], otherwise: str) -> str:
    """A hint naming the candidates closest to a misspelt ``word``.

    Args:
        word (str): What the user wrote.
        candidates (Iterable[str]): The valid names.
        otherwise (str): The hint when nothing is close.

    Returns:
        str: ``"did you mean 'a' or 'b'?"`` or ``otherwise``.
    """
    close = difflib.get_close_matches(word, sorted(set(candidates)), n=3)
    return (f'did you mean {" or ".join(map(repr, close))}?'
            if close else otherwise)
