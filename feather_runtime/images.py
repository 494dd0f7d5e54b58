"""Finding and reading the images of a folder (OpenCV only)."""
import glob
import os
import os.path as osp
from typing import List, Optional, Sequence, Union

import cv2
import numpy as np

IMAGE_EXTS = ('.jpg', '.jpeg', '.png', '.bmp', '.webp')


def list_images(inputs: Union[str, Sequence[str]]) -> List[str]:
    """The image files (any case of extension) of folders, and given files.

    Args:
        inputs (str | Sequence[str]): Folders and/or files.

    Returns:
        list[str]: Each folder's images sorted, then the files as given.
    """
    files: List[str] = []
    for item in [inputs] if isinstance(inputs, str) else inputs:
        if osp.isdir(item):
            files += sorted(f for f in glob.glob(osp.join(item, '*'))
                            if osp.isfile(f) and f.lower().endswith(IMAGE_EXTS))
        else:
            files.append(item)
    return files


def read_image(path: str) -> Optional[np.ndarray]:
    """BGR uint8 image, or None if it is not a complete, readable image."""
    if path.lower().endswith(('.jpg', '.jpeg')):
        with open(path, 'rb') as f:
            f.seek(0, os.SEEK_END)
            if f.tell() < 4:
                return None
            f.seek(-2, os.SEEK_END)
            # A complete JPEG ends with the EOI marker; OpenCV would return
            # the decoded part of a truncated one padded with grey.
            if f.read(2) != b'\xff\xd9':
                return None
    return cv2.imread(path, cv2.IMREAD_COLOR)
