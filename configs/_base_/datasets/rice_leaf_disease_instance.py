# rice_leaf_disease (shipped in data/, license next to it): 97 train / 16 val
# photos of 416x416 px, 3 lesion classes, median box 28x28 px, up to 40
# lesions per image. Native size: downscaling would shrink lesions below
# 20 px.
_base_ = './coco_folder_instance.py'

data_root = 'data/rice_leaf_disease/'
metainfo = dict(
    classes=('bacteria', 'brown_spot', 'leaf_smut'),
    palette=[(220, 20, 60), (255, 165, 0), (0, 0, 230)])
img_scale = (416, 416)

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
