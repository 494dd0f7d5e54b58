# Copyright (c) feather-mmdet contributors. All rights reserved.
"""Fast checks of a config + COCO-format dataset before anything runs.

Every check returns :class:`Problem` records instead of raising, so a user
sees all problems of a config and its data at once (``tools/preflight.py``);
:class:`feather_mmdet.engine.FeatherRunner` runs the same checks before
training or testing and raises :class:`PreflightError` on errors.

How degenerate annotations are treated (mmdet's ``CocoDataset`` and
``LoadAnnotations`` behave this way; the checks only make it visible):

============================================  =========================
case                                          outcome
============================================  =========================
missing data root / annotation / image dir    error
json that is not COCO instances format        error
annotation with an unknown ``image_id``       error
annotation with an unknown ``category_id``    error
image file missing or not decodable           error
config classes not in the json categories     error
config classes in another order than the json error
``num_classes`` != number of classes          error
zero-area / <1 px box                         warning: skipped by mmdet
no valid polygon (all < 3 points / odd)       warning: instance ignored
some polygons invalid, others valid           warning: those polygons dropped
polygon outside the image                     warning: clipped to image
============================================  =========================
"""
import inspect
import json
import os.path as osp
import re
from dataclasses import dataclass
from typing import (Any, Dict, Iterable, List, Optional, Sequence, Tuple,
                    Union)

import cv2
from mmengine.config import Config

from .suggest import did_you_mean

SPLITS = {
    'train': 'train_dataloader',
    'val': 'val_dataloader',
    'test': 'test_dataloader'
}


@dataclass
class Problem:
    """One finding: ``level`` is ``'error'`` or ``'warning'``."""

    level: str
    where: str
    message: str

    def __str__(self) -> str:
        return f'[{self.level.upper()}] {self.where}: {self.message}'


class PreflightError(ValueError):
    """Raised when a config/dataset pair has errors; lists all of them."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        errors = [p for p in self.problems if p.level == 'error']
        lines = '\n'.join(f'  {p}' for p in self.problems)
        super().__init__(
            f'{len(errors)} problem(s) found before running; nothing was '
            f'trained or overwritten:\n{lines}')


def _walk(node: Any, path: str) -> Iterable[Tuple[str, dict]]:
    """Yield ``(path, dict)`` for every dict nested in ``node``."""
    if isinstance(node, dict):
        yield path, node
        for k, v in node.items():
            yield from _walk(v, f'{path}.{k}')
    elif isinstance(node, (list, tuple)):
        for i, v in enumerate(node):
            yield from _walk(v, f'{path}[{i}]')


def _registered_names() -> List[str]:
    from mmdet.registry import MODELS, TASK_UTILS
    names = set()
    for registry in (MODELS, TASK_UTILS):
        for reg in (registry, registry.parent):
            if reg is not None:
                names.update(reg.module_dict)
    return sorted(names)


def _init_params(name: str, registry=None) -> List[str]:
    """All keyword names a registered class accepts, through its bases."""
    if registry is None:
        from mmdet.registry import MODELS as registry
    cls = registry.get(name)
    params = set()
    for klass in inspect.getmro(cls) if inspect.isclass(cls) else []:
        init = klass.__dict__.get('__init__')
        if init is not None:
            params.update(inspect.signature(init).parameters)
    return sorted(params - {'self', 'args', 'kwargs'})


def _unknown_type(model_cfg: dict, error: KeyError) -> Optional[Problem]:
    """An unregistered ``type``, with the closest registered names."""
    match = re.search(r'(\S+) is not in the (\S+) registry', str(error))
    if not match:
        return None
    name = match.group(1).strip('\'"`')
    where = next((f'{p}.type' for p, d in _walk(model_cfg, 'model')
                  if d.get('type') == name), 'model')
    hint = did_you_mean(name, _registered_names(),
                        'check the spelling and custom_imports.')
    return Problem(
        'error', where,
        f'unknown module type {name!r} ({match.group(2)} registry); {hint}')


def _unknown_key(model_cfg: dict, error: TypeError) -> Optional[Problem]:
    """An argument a module does not take, with the closest valid ones."""
    match = re.search(r"unexpected keyword argument '(\w+)'", str(error))
    if not match:
        return None
    key = match.group(1)
    for path, d in _walk(model_cfg, 'model'):
        if key in d and isinstance(d.get('type'), str):
            hint = did_you_mean(key, _init_params(d['type']),
                                f'{d["type"]} has no such argument.')
            return Problem('error', f'{path}.{key}',
                           f'{d["type"]} got an unknown key {key!r}; {hint}')
    return Problem('error', 'model', str(error))


def build_checked(model_cfg: dict) -> Tuple[Optional[Any], List[Problem]]:
    """Build the model once; turn registry and keyword errors into advice.

    Args:
        model_cfg (dict): The ``model`` field of a config.

    Returns:
        tuple: The built model (None on a problem) and the problems: one
        error for an unknown type or key, else empty.
    """
    from mmdet.registry import MODELS
    try:
        return MODELS.build(model_cfg), []
    except KeyError as e:
        problem = _unknown_type(model_cfg, e)
        if problem is None:
            raise
        return None, [problem]
    except TypeError as e:
        problem = _unknown_key(model_cfg, e)
        if problem is None:
            raise
        return None, [problem]


def check_model(model_cfg: dict) -> List[Problem]:
    """The problems :func:`build_checked` finds (the model is discarded)."""
    return build_checked(model_cfg)[1]


def _check_keys(cfg: Any, path: str, registry, extra: Sequence[str] = ()
                ) -> List[Problem]:
    """Keys of ``cfg`` that its ``type`` does not accept, with the closest
    valid names (a misspelt key would otherwise surface only when the
    object is built, or, for ``**kwargs``, when it is used)."""
    if not isinstance(cfg, dict) or not isinstance(cfg.get('type'), str):
        return []
    if registry.get(cfg['type']) is None:
        return [Problem('error', f'{path}.type',
                        f'unknown type {cfg["type"]!r}')]
    valid = set(_init_params(cfg['type'], registry)) | set(extra)
    problems = []
    for key in cfg:
        if key in ('type', '_scope_', 'priority') or key in valid:
            continue
        hint = did_you_mean(key, valid,
                            f'{cfg["type"]} has no such argument.')
        problems.append(Problem(
            'error', f'{path}.{key}',
            f'{cfg["type"]} got an unknown key {key!r}; {hint}'))
    return problems


def check_training_cfg(optim_wrapper: Any = None,
                       default_hooks: Any = None,
                       custom_hooks: Any = None) -> List[Problem]:
    """Unknown keys of the optimizer, its wrapper and the hooks, found
    before anything is built (mmengine builds the optimizer after the
    datasets, and passes a checkpoint hook's unknown keys on to the first
    checkpoint save).

    Returns:
        list[Problem]: One error per unknown key, with suggestions.
    """
    from mmdet.registry import HOOKS, OPTIM_WRAPPERS, OPTIMIZERS
    from mmengine.runner import Runner
    problems = []
    if isinstance(optim_wrapper, dict):
        problems += _check_keys(
            optim_wrapper, 'optim_wrapper', OPTIM_WRAPPERS,
            extra=('constructor', 'paramwise_cfg'))
        problems += _check_keys(optim_wrapper.get('optimizer'),
                                'optim_wrapper.optimizer', OPTIMIZERS)
    save_args = list(inspect.signature(Runner.save_checkpoint).parameters)
    for name, hook in (default_hooks or {}).items():
        extra = save_args if isinstance(hook, dict) and \
            hook.get('type') == 'CheckpointHook' else ()
        problems += _check_keys(hook, f'default_hooks.{name}', HOOKS, extra)
    for i, hook in enumerate(custom_hooks or []):
        problems += _check_keys(hook, f'custom_hooks[{i}]', HOOKS)
    return problems


def _dataset_cfg(cfg: Config, split: str) -> Optional[dict]:
    loader = cfg.get(SPLITS[split])
    if not loader:
        return None
    dataset = loader.get('dataset', {})
    while 'dataset' in dataset:  # RepeatDataset, ClassBalancedDataset, ...
        dataset = dataset['dataset']
    return dataset


def _num_classes(cfg: Config) -> Dict[str, int]:
    return {
        f'{path}.num_classes': d['num_classes']
        for path, d in _walk(cfg.model, 'model') if 'num_classes' in d
    }


#: ``decode_images='auto'`` decodes every image of splits up to this size.
AUTO_DECODE_MAX_IMAGES = 500
#: The runner parses annotation files up to this size (MB) for its checks;
#: larger ones (COCO train2017: ~450 MB, several seconds and GBs to parse,
#: which mmdet then does again) get the path checks only.
RUNNER_MAX_JSON_MB = 64


def _check_paths(ds: dict, key: str) -> Tuple[List[Problem], str, str]:
    """Data root, annotation file and image folder exist."""
    root = ds.get('data_root') or ''
    ann_file = osp.join(root, ds['ann_file'])
    img_dir = osp.join(root, (ds.get('data_prefix') or {}).get('img', ''))
    if root and not osp.isdir(root):
        return [
            Problem('error', f'{key}.data_root',
                    f'data root {root!r} does not exist; fix the path or '
                    f'pass --cfg-options {key}.data_root=<dir>')
        ], ann_file, img_dir
    problems = []
    if not osp.isfile(ann_file):
        problems.append(
            Problem('error', f'{key}.ann_file',
                    f'annotation file {ann_file!r} does not exist; fix '
                    f'ann_file (relative to data_root {root!r})'))
    if not osp.isdir(img_dir):
        problems.append(
            Problem('error', f'{key}.data_prefix.img',
                    f'image folder {img_dir!r} does not exist; fix '
                    f'data_prefix.img (relative to data_root {root!r})'))
    return problems, ann_file, img_dir


def _load_coco(ann_file: str) -> Tuple[List[Problem], Optional[dict]]:
    """Parse the json and check it has COCO's three lists."""
    try:
        with open(ann_file) as f:
            coco = json.load(f)
    except (ValueError, UnicodeDecodeError) as e:
        return [Problem('error', ann_file, f'not valid JSON: {e}')], None
    missing = [
        k for k in ('images', 'annotations', 'categories')
        if not isinstance(coco, dict) or not isinstance(coco.get(k), list)
    ]
    if missing:
        return [
            Problem('error', ann_file,
                    f'not a COCO instances file: missing list(s) {missing}; '
                    'convert it to COCO format (images, annotations, '
                    'categories)')
        ], None
    bad = next((im for im in coco['images']
                if not {'id', 'file_name'} <= set(im)), None)
    if bad is not None:
        return [
            Problem('error', ann_file,
                    f'image entry without id/file_name: {bad}')
        ], None
    return [], coco


def _check_images(coco: dict, ann_file: str, img_dir: str,
                  decode: bool) -> List[Problem]:
    """Every listed image exists (and decodes, if asked)."""
    missing, unreadable = [], []
    for im in coco['images']:
        path = osp.join(img_dir, im['file_name'])
        if not osp.isfile(path):
            missing.append(im['file_name'])
        elif decode and cv2.imread(path) is None:
            unreadable.append(im['file_name'])
    problems = []
    if missing:
        problems.append(
            Problem('error', ann_file,
                    f'{len(missing)} image(s) listed in the json are not '
                    f'in {img_dir!r}, e.g. {missing[:3]}; copy them there '
                    'or fix data_prefix.img'))
    if unreadable:
        problems.append(
            Problem('error', img_dir,
                    f'{len(unreadable)} image(s) cannot be decoded, e.g. '
                    f'{unreadable[:3]}; replace or remove them from the json'))
    return problems


def _outside_image(polys: List[list], im: dict) -> bool:
    width = im.get('width', float('inf'))
    height = im.get('height', float('inf'))
    return any(not -1 <= v <= width + 1 for p in polys for v in p[0::2]) or \
        any(not -1 <= v <= height + 1 for p in polys for v in p[1::2])


def _check_annotations(coco: dict, ann_file: str) -> List[Problem]:
    """Ids resolve (errors); degenerate boxes/polygons are counted
    (warnings: mmdet skips, ignores or clips them)."""
    images = {im['id']: im for im in coco['images']}
    cat_ids = {c.get('id') for c in coco['categories']}
    unknown_image, unknown_cat = [], []
    counts = dict(empty_box=0, bad_polygon=0, dropped_polygon=0, outside=0)
    for ann in coco['annotations']:
        im = images.get(ann.get('image_id'))
        if im is None:
            unknown_image.append(ann.get('id'))
            continue
        if ann.get('category_id') not in cat_ids:
            unknown_cat.append(ann.get('category_id'))
        _, _, w, h = ann.get('bbox', (0, 0, 0, 0))
        if w < 1 or h < 1 or ann.get('area', 1) <= 0:
            counts['empty_box'] += 1
        seg = ann.get('segmentation')
        if isinstance(seg, list):
            polys = [p for p in seg if len(p) >= 6 and len(p) % 2 == 0]
            # mmdet ignores an instance only when none of its polygons is
            # valid; invalid ones next to valid ones are just left out.
            counts['bad_polygon'] += not polys
            counts['dropped_polygon'] += bool(polys) and len(polys) != len(seg)
            counts['outside'] += _outside_image(polys, im)
    problems = []
    if unknown_image:
        problems.append(
            Problem('error', ann_file,
                    f'{len(unknown_image)} annotation(s) refer to image ids '
                    'not in "images", e.g. annotation ids '
                    f'{unknown_image[:3]}; remove them or add the images'))
    if unknown_cat:
        problems.append(
            Problem('error', ann_file,
                    f'{len(unknown_cat)} annotation(s) use category ids not '
                    f'in "categories": {sorted(set(unknown_cat))}; add the '
                    'categories or fix the ids'))
    texts = dict(
        empty_box='zero-area or <1 px boxes: skipped by mmdet',
        bad_polygon='instances without one valid polygon (each empty, '
        '<3 points or of odd length): ignored in training',
        dropped_polygon='instances with some invalid polygons next to valid '
        'ones: mmdet drops the invalid polygons and keeps the instance',
        outside='polygons outside the image: clipped to the image')
    problems += [
        Problem('warning', ann_file, f'{counts[k]} {text}')
        for k, text in texts.items() if counts[k]
    ]
    return problems


def _check_classes(cfg: Config, ds: dict, key: str, coco: dict,
                   ann_file: str) -> List[Problem]:
    """Config classes are json category names; heads have as many."""
    names = {c.get('name') for c in coco['categories']}
    classes = (ds.get('metainfo') or {}).get('classes')
    where = f'{key}.metainfo.classes'
    if classes is None:
        from mmdet.datasets import CocoDataset
        classes = CocoDataset.METAINFO['classes']
        where += ' (default: the 80 COCO classes)'
    problems = []
    absent = [c for c in classes if c not in names]
    if absent:
        problems.append(
            Problem('error', where,
                    f'{len(absent)} of {len(classes)} classes are not '
                    f'category names in {ann_file!r}, e.g. {absent[:3]}; '
                    'set metainfo=dict(classes=(...)) to the json category '
                    f'names {sorted(map(str, names))[:10]}'))
    in_json = [c.get('name') for c in coco['categories']
               if c.get('name') in set(classes)]
    if not absent and in_json != list(classes):
        # mmdet numbers labels in the json's category order (pycocotools'
        # getCatIds), so names listed in another order land on wrong labels.
        problems.append(
            Problem('error', where,
                    f'classes {tuple(classes)} are not in the order of the '
                    f'categories of {ann_file!r}; mmdet numbers the labels in '
                    'that order, so the names would be attached to the wrong '
                    f'labels; list them as {tuple(in_json)}'))
    left_out = sorted(str(n) for n in names - set(classes))
    if left_out:
        kept = {c['id'] for c in coco['categories']
                if c.get('name') in set(classes)}
        dropped = sum(a.get('category_id') not in kept
                      for a in coco['annotations'])
        problems.append(
            Problem('warning', where,
                    f'json categories {left_out[:5]} are not in the classes: '
                    f'their {dropped} annotation(s) are not trained on (add '
                    'them to metainfo.classes if they should be)'))
    for path, n in _num_classes(cfg).items():
        if n != len(classes):
            problems.append(
                Problem('error', path,
                        f'num_classes={n} but the dataset has '
                        f'{len(classes)} classes; set {path}={len(classes)}'))
    return problems


def check_coco_split(cfg: Config,
                     split: str,
                     decode_images: Union[bool, str] = False,
                     max_json_mb: Optional[float] = None) -> List[Problem]:
    """Check one split's files, json, annotations and class settings.

    Args:
        cfg (Config): The full config.
        split (str): ``'train'``, ``'val'`` or ``'test'``.
        max_json_mb (float, optional): Check only the paths of an annotation
            file larger than this (a warning says so); default: no limit.
        decode_images (bool | str): Decode every image to find corrupt files;
            ``'auto'`` does so for splits of up to
            :data:`AUTO_DECODE_MAX_IMAGES` images (a second or two).

    Returns:
        list[Problem]: Everything found, errors and warnings.
    """
    ds = _dataset_cfg(cfg, split)
    if ds is None or 'ann_file' not in ds:
        return []
    key = f'{SPLITS[split]}.dataset'
    problems, ann_file, img_dir = _check_paths(ds, key)
    if problems:
        return problems
    size_mb = osp.getsize(ann_file) / 2**20
    if max_json_mb is not None and size_mb > max_json_mb:
        return [Problem(
            'warning', key,
            f'{ann_file!r} is {size_mb:.0f} MB: only its paths were checked '
            'here; run `python tools/preflight.py <config>` for the full '
            'check of its annotations and classes')]
    problems, coco = _load_coco(ann_file)
    if coco is None:
        return problems
    if decode_images == 'auto':
        decode_images = len(coco['images']) <= AUTO_DECODE_MAX_IMAGES
    return (_check_images(coco, ann_file, img_dir, bool(decode_images)) +
            _check_annotations(coco, ann_file) +
            _check_classes(cfg, ds, key, coco, ann_file))


def check_evaluator(cfg: Config, split: str) -> List[Problem]:
    """The COCO metric reads its own copy of the annotation file."""
    evaluator = cfg.get(f'{split}_evaluator')
    if split == 'train' or not isinstance(evaluator, dict):
        return []
    ann = evaluator.get('ann_file')
    if ann and not osp.isfile(ann):
        return [
            Problem('error', f'{split}_evaluator.ann_file',
                    f'{ann!r} does not exist; point it at the same json as '
                    f'{SPLITS[split]}.dataset.ann_file')
        ]
    return []


def preflight(cfg: Config,
              splits: Sequence[str] = ('train', 'val', 'test'),
              check_model_build: bool = True,
              decode_images: Union[bool, str] = False,
              max_json_mb: Optional[float] = None) -> List[Problem]:
    """Run all checks for ``splits`` and return every problem found.

    Args:
        cfg (Config): The config to check.
        splits (Sequence[str]): Which dataloaders to check.
        check_model_build (bool): Also build the model to catch unknown types
            and keys. Defaults to True.
        decode_images (bool | str): See :func:`check_coco_split`.
        max_json_mb (float, optional): See :func:`check_coco_split`.

    Returns:
        list[Problem]: Errors and warnings, in the order found.
    """
    problems = check_model(cfg.model) if check_model_build else []
    seen = set()
    for split in splits:
        ds = _dataset_cfg(cfg, split)
        ident = json.dumps(ds, sort_keys=True, default=str)
        if ident not in seen:  # val and test often share a dataset
            seen.add(ident)
            problems += check_coco_split(cfg, split, decode_images,
                                         max_json_mb)
        problems += check_evaluator(cfg, split)
    return problems
