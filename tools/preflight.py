"""Check a config and its COCO-format dataset, printing every problem at once.

    python tools/preflight.py configs/feather_mask_rcnn/<config>.py \
        [--splits train val] [--decode-images] [--cfg-options k=v ...]

Exit status: 0 when there are no errors (warnings allowed), 1 otherwise.
See feather_mmdet/utils/preflight.py for what is checked and how degenerate
annotations are treated.
"""
import argparse
import sys
import time
from typing import List, Optional

from mmengine.config import Config, DictAction


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument(
        '--splits', nargs='+', default=['train', 'val', 'test'],
        choices=['train', 'val', 'test'])
    parser.add_argument(
        '--decode-images', action='store_true',
        help='also decode every image (slower; finds corrupt files)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)

    start = time.time()
    try:
        cfg = Config.fromfile(args.config)
    except Exception as e:  # report, do not hide: exit 1 with the reason
        print(f'[ERROR] {args.config}: config does not load: '
              f'{type(e).__name__}: {e}')
        return 1
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    from mmdet.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    from feather_mmdet.utils import preflight
    problems = preflight(cfg, args.splits, decode_images=args.decode_images)
    for problem in problems:
        print(problem)
    errors = sum(p.level == 'error' for p in problems)
    print(f'preflight: {errors} error(s), {len(problems) - errors} '
          f'warning(s) in {time.time() - start:.1f}s')
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main())
