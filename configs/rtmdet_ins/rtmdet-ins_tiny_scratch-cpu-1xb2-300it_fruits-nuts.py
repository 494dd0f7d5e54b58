# RTMDet-Ins-tiny on the shipped fruits_nuts data, with the fruits Mask R-CNN
# recipes' input size and the same schedule. The photos resize to 320x240 as
# there; the canvas is padded to 320x256 because RTMDet's PAFPN needs sizes
# divisible by 32 (Mask R-CNN's data preprocessor pads to 32 the same way).
_base_ = './rtmdet-ins_tiny_scratch-cpu-1xb2-300it_rice-leaf.py'

data_root = 'data/fruits_nuts/'
metainfo = dict(
    classes=('date', 'fig', 'hazelnut'),
    palette=[(220, 20, 60), (119, 11, 32), (0, 0, 230)])
img_scale = (320, 256)

train_pipeline = _base_.train_pipeline
train_pipeline[2].scale = img_scale
train_pipeline[3].crop_size = img_scale  # (w, h)
train_pipeline[6].size = img_scale
test_pipeline = _base_.test_pipeline
test_pipeline[1].scale = img_scale
test_pipeline[2].size = img_scale
train_dataloader = dict(
    dataset=dict(
        data_root=data_root, metainfo=metainfo, pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        data_root=data_root, metainfo=metainfo, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/val.json')
test_evaluator = val_evaluator
