"""Every ``--cfg-options`` form the READMEs document parses and applies the
way ``mim train`` does (mmengine's DictAction + merge_from_dict) and builds
the model; the dense-start initializer runs end to end on a tiny model."""
import argparse
import os.path as osp
import re
import shlex

import pytest
import torch
from mmengine.config import Config, DictAction

from feather_mmdet.models.utils import ConversionError
from helpers import REPO_ROOT, TINY_CONFIG

DOCS = [osp.join(REPO_ROOT, 'README.md'),
        osp.join(REPO_ROOT, 'configs', 'feather_mask_rcnn', 'README.md')]


def documented_commands():
    """(doc, command) for each shell command with ``--cfg-options`` and a
    config of this repository, continuation lines joined."""
    found = []
    for doc in DOCS:
        text = open(doc).read()
        for block in re.findall(r'```shell\n(.*?)```', text, re.S):
            for cmd in block.replace('\\\n', ' ').splitlines():
                cmd = cmd.split(' #')[0].strip()
                if '--cfg-options' in cmd and re.search(
                        r'configs/\S+\.py', cmd) and '<' not in cmd:
                    found.append((osp.relpath(doc, REPO_ROOT), cmd))
    return found


def parse_cfg_options(cmd):
    tokens = shlex.split(cmd)
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    start = tokens.index('--cfg-options')
    end = next((i for i in range(start + 1, len(tokens))
                if tokens[i].startswith('--')), len(tokens))
    config = next(t for t in tokens if re.match(r'configs/\S+\.py$', t))
    return config, parser.parse_args(tokens[start:end]).cfg_options


def test_the_docs_have_cfg_options_commands():
    docs = {doc for doc, _ in documented_commands()}
    assert docs == {'README.md', 'configs/feather_mask_rcnn/README.md'}


@pytest.mark.parametrize('doc, cmd', documented_commands())
def test_documented_cfg_options_apply(doc, cmd):
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules
    register_all_modules()
    config, options = parse_cfg_options(cmd)
    cfg = Config.fromfile(osp.join(REPO_ROOT, config))
    cfg.merge_from_dict(options)  # raises as `mim train` would
    for key, value in options.items():
        node = cfg
        for part in key.split('.')[:-1]:
            node = node[int(part)] if part.isdigit() else node[part]
        last = key.split('.')[-1]
        if last != '_delete_':
            assert node[last] == value, (doc, key)
    MODELS.build(cfg.model)


def _tiny(dense):
    cfg = Config.fromfile(TINY_CONFIG)
    if dense:
        cfg.model.backbone.type = 'ResNet'
        cfg.model.roi_head.mask_head.type = 'FCNMaskHead'
    return cfg


def test_dense_start_command_end_to_end(tmp_path):
    """The README's initializer form on a tiny Feather: the converted
    depthwise weights come from the dense checkpoint, not random init."""
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules
    register_all_modules()
    dense = MODELS.build(_tiny(dense=True).model)
    dense.init_weights()
    ckpt = tmp_path / 'dense.pth'
    torch.save({'state_dict': dense.state_dict()}, ckpt)
    cmd = [c for _, c in documented_commands() if 'DenseToFeather' in c][0]
    _, options = parse_cfg_options(cmd)
    options['model.backbone.init_cfg.checkpoint'] = str(ckpt)
    cfg = _tiny(dense=False)
    cfg.merge_from_dict(options)
    assert cfg.model.backbone.init_cfg == dict(type='DenseToFeather',
                                               checkpoint=str(ckpt))
    feathers = []
    for seed in (1, 2):  # the random init differs, the conversion must not
        torch.manual_seed(seed)
        feathers.append(MODELS.build(cfg.model))
        feathers[-1].init_weights()
    a, b = (f.backbone for f in feathers)
    # stem and 1x1 weights copied as they are
    assert torch.equal(a.conv1.weight, dense.backbone.conv1.weight)
    # the decomposed 3x3s follow from the dense checkpoint alone
    for name in ('conv1.depthwise_conv.conv.weight',
                 'conv1.pointwise_conv.conv.weight'):
        wa = a.layer1[0].get_parameter(name)
        assert torch.equal(wa, b.layer1[0].get_parameter(name)), name
    torch.manual_seed(1)
    random = MODELS.build(_tiny(dense=False).model).backbone
    random.init_weights()  # the same seed, no dense start
    assert not torch.equal(
        random.layer1[0].conv1.depthwise_conv.conv.weight,
        a.layer1[0].conv1.depthwise_conv.conv.weight)


def test_dense_start_refuses_another_architecture(tmp_path):
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules
    register_all_modules()
    ckpt = tmp_path / 'other.pth'
    torch.save({'state_dict': {'head.fc.weight': torch.zeros(3, 3)}}, ckpt)
    cfg = _tiny(dense=False)
    cfg.merge_from_dict({
        'model.backbone.init_cfg._delete_': True,
        'model.backbone.init_cfg.type': 'DenseToFeather',
        'model.backbone.init_cfg.checkpoint': str(ckpt)})
    with pytest.raises(ConversionError, match='not one tensor'):
        MODELS.build(cfg.model).init_weights()
