"""Worker of test_distributed.py, started by torchrun on CPU: trains the tiny
config with mmengine's Runner under launcher='pytorch' (FeatherRunner sets up
gloo and a CPU DDP wrapper), then saves this rank's parameters."""
import sys

import torch
from mmengine.dist import get_rank
from mmengine.registry import RUNNERS

sys.path.insert(0, sys.argv[2])  # the tests folder, for helpers
from helpers import tiny_cfg  # noqa: E402

work_dir, max_iters = sys.argv[1], 3
cfg = tiny_cfg(work_dir, max_iters=max_iters, launcher='pytorch',
               val_cfg=None, val_dataloader=None, val_evaluator=None)
torch.set_num_threads(1)
runner = RUNNERS.build(cfg)
runner.train()
model = runner.model.module
torch.save({k: v.detach().clone() for k, v in model.named_parameters()},
           f'{work_dir}/params_rank{get_rank()}.pt')
