"""One training step of the toy detector under 2 CPU processes, and its single-process references.

Run by ``tests/test_tools/test_dist_train.py`` as::

    python -m torch.distributed.run --nproc_per_node 2 dist_step_check.py CONFIG WORK_DIR OUT_DIR

The model is wrapped by mmengine's ``Runner`` after ``visiondiv.utils.cli.setup_distributed``, as
``tools/train.py --launcher pytorch`` does. Rank r runs ``train_step`` on image r of a fixed global
batch of two; rank 0 then steps two unwrapped copies of the starting model in one process, one on the
whole batch and one on image 0 alone. Every rank saves its parameters after the step; rank 0 also the
starting parameters and the two references. The test compares them.
"""
import copy
import os.path as osp
import sys

import numpy as np
import torch
import torch.distributed as dist
from mmdet.structures import DetDataSample
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.runner import Runner
from mmengine.structures import InstanceData

from visiondiv.structures.bbox import RotatedBoxes
from visiondiv.utils import register_all_modules
from visiondiv.utils.cli import setup_distributed

SIZE = 128
#: (cx, cy, w, h, angle) in le90, and labels: the same objects in both images
BOXES = [[40.0, 44.0, 56.0, 20.0, 0.3], [88.0, 84.0, 36.0, 32.0, -0.5]]
LABELS = [0, 2]


def image(seed: int) -> torch.Tensor:
    """A uint8 CHW image: its own noise background, the objects of BOXES drawn as bright blobs (dark ones,
    in negative, for an even seed), so that the two images give clearly different gradients."""
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 160, (3, SIZE, SIZE)).astype(np.uint8)
    for cx, cy, w, h, _ in BOXES:
        img[:, int(cy - h / 2):int(cy + h / 2), int(cx - w / 2):int(cx + w / 2)] = 230
    return torch.from_numpy(255 - img if seed % 2 == 0 else img)


def sample() -> DetDataSample:
    """The ground truth shared by both images (same boxes: same positive anchors in each)."""
    s = DetDataSample(metainfo=dict(img_shape=(SIZE, SIZE), ori_shape=(SIZE, SIZE), pad_shape=(SIZE, SIZE),
                                    scale_factor=(1.0, 1.0)))
    s.gt_instances = InstanceData(bboxes=RotatedBoxes(torch.tensor(BOXES)), labels=torch.tensor(LABELS))
    return s


def params(model: torch.nn.Module) -> dict:
    return {k: v.detach().clone() for k, v in model.named_parameters()}


def main(config: str, work_dir: str, out_dir: str) -> None:
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(config)
    cfg.merge_from_dict({
        # BN in eval mode: each image's forward does not depend on the rest of the batch
        'model.backbone.norm_eval': True,
        # plain SGD: the update is lr * gradient, so a sum instead of a mean (or no all-reduce) shows;
        # Adam's first step is about lr * sign(gradient), blind to the gradient's scale, and so is clipping
        'optim_wrapper': dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.01), clip_grad=None),
    })
    cfg.launcher, cfg.work_dir = 'pytorch', work_dir
    setup_distributed(cfg)
    runner = Runner.from_cfg(cfg)
    rank = dist.get_rank()
    start = copy.deepcopy(runner.model.module)          # the DDP broadcast made it rank 0's on every rank
    optim = runner.build_optim_wrapper(cfg.optim_wrapper)
    runner.model.train()
    images = [image(1), image(2)]
    runner.model.train_step(dict(inputs=[images[rank]], data_samples=[sample()]), optim)
    torch.save(dict(wrapper=type(runner.model).__name__, device_ids=runner.model.device_ids,
                    backend=dist.get_backend(), params=params(runner.model.module)),
               osp.join(out_dir, f'rank{rank}.pt'))
    if rank == 0:
        refs = {}
        for name, batch in (('whole_batch', images), ('image0_only', images[:1])):
            model = copy.deepcopy(start)
            model.train()
            model.train_step(dict(inputs=batch, data_samples=[sample() for _ in batch]),
                             build_optim_wrapper(model, cfg.optim_wrapper))
            refs[name] = params(model)
        torch.save(dict(start=params(start), **refs), osp.join(out_dir, 'reference.pt'))
    dist.barrier()
    dist.destroy_process_group()


if __name__ == '__main__':
    main(*sys.argv[1:4])
