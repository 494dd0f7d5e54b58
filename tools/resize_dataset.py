"""One-off resize of a COCO folder for fast CPU training.

    python tools/resize_dataset.py path/to/my_data path/to/my_data_640 --max-side 640

Photos far larger than the training input (e.g. 4000x3000 for a 416 px
recipe) cost more to decode, with their masks, than the model costs to train
on 2 cores (docs/training_speed.md). This writes a copy whose images have at
most --max-side pixels on the longer side, with boxes, areas, polygons and
RLE masks rescaled to match; train on the copy. The original is never
modified, and an existing annotation file in the output is not replaced.
"""
import argparse
import sys
from typing import List, Optional


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='COCO folder (images/ + annotations/)')
    parser.add_argument('dst', help='output folder (new or empty)')
    parser.add_argument('--max-side', type=int, required=True,
                        help='longer side of the output images, pixels')
    parser.add_argument('--ann-files', nargs='+',
                        default=['annotations/train.json',
                                 'annotations/val.json'])
    parser.add_argument('--img-prefix', default='images/')
    parser.add_argument('--upscale', action='store_true',
                        help='also enlarge smaller images (test data)')
    parser.add_argument('--to-rle', action='store_true',
                        help='store every mask as compressed RLE')
    args = parser.parse_args(argv)
    from feather_mmdet.utils.own_data import OwnDataError, resize_coco_folder
    try:
        counts = resize_coco_folder(args.src, args.dst, args.max_side,
                                    args.ann_files, args.img_prefix,
                                    args.upscale, args.to_rle)
    except (OwnDataError, OSError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 2
    print(f'{args.dst}: {counts["images"]} images resized, '
          f'{counts["copied"]} copied as they were, '
          f'{counts["annotations"]} annotations rescaled')
    return 0


if __name__ == '__main__':
    sys.exit(main())
