# fruits_nuts (shipped in data/, license next to it): 14 train / 4 val photos
# of dates, figs and hazelnuts (at most 13 per image), resized to 320x240.
_base_ = './coco_folder_instance.py'

data_root = 'data/fruits_nuts/'
metainfo = dict(
    classes=('date', 'fig', 'hazelnut'),
    palette=[(220, 20, 60), (119, 11, 32), (0, 0, 230)])
img_scale = (320, 240)

train_pipeline = _base_.train_pipeline
train_pipeline[2].scale = img_scale
test_pipeline = _base_.test_pipeline
test_pipeline[1].scale = img_scale
train_dataloader = dict(
    dataset=dict(
        data_root=data_root, metainfo=metainfo, pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        data_root=data_root, metainfo=metainfo, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/val.json')
test_evaluator = val_evaluator
