"""Split a COCO instances json into train/val files by image.

The split is fixed by the image file names given with ``--val``, so it is
reproducible and reviewable. Used to make ``data/fruits_nuts/annotations``:

    python tools/misc/split_coco_by_image.py data/fruits_nuts/trainval.json \
        --val 10.jpg 15.jpg 4.jpg 9.jpg \
        --out-dir data/fruits_nuts/annotations
"""
import argparse
import json
import os.path as osp
from typing import Dict, List, Set


def subset(coco: Dict, image_ids: Set[int]) -> Dict:
    """Return ``coco`` restricted to ``image_ids`` (categories kept)."""
    out = {k: v for k, v in coco.items() if k not in ('images', 'annotations')}
    out['images'] = [im for im in coco['images'] if im['id'] in image_ids]
    out['annotations'] = [
        a for a in coco['annotations'] if a['image_id'] in image_ids
    ]
    return out


def main(argv: List[str] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('ann_file', help='COCO instances json to split')
    parser.add_argument(
        '--val', nargs='+', required=True, help='file names of val images')
    parser.add_argument('--out-dir', required=True)
    args = parser.parse_args(argv)

    with open(args.ann_file) as f:
        coco = json.load(f)
    by_name = {im['file_name']: im['id'] for im in coco['images']}
    unknown = sorted(set(args.val) - set(by_name))
    if unknown:
        parser.error(f'--val names images not in {args.ann_file}: {unknown}')
    val_ids = {by_name[n] for n in args.val}
    train_ids = set(by_name.values()) - val_ids
    for name, ids in (('train', train_ids), ('val', val_ids)):
        path = osp.join(args.out_dir, f'{name}.json')
        part = subset(coco, ids)
        with open(path, 'w') as f:
            json.dump(part, f)
        print(f'{path}: {len(part["images"])} images, '
              f'{len(part["annotations"])} instances')


if __name__ == '__main__':
    main()
