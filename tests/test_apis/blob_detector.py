"""A stand-in detector for the inference tests, whose detections are known in advance.

``BlobDetector`` finds the bright squares of the image it is given (after the test pipeline's resize) that
are at least ``min_side`` px wide, as rotated boxes; so an image shrunk too much by the pipeline loses its
objects, as a trained detector does, and patches at the detector's scale find them again.
"""
import os.path as osp

import numpy as np
import torch
import torch.nn as nn
from mmdet.models.detectors.base import BaseDetector
from mmengine.structures import InstanceData
from scipy import ndimage

from visiondiv.registry import MODELS


@MODELS.register_module(force=True)
class BlobDetector(BaseDetector):
    """Bright (> 200) squares of at least ``min_side`` px, as boxes ``box_scale`` times their size turned by
    ``angle``; score area / (area + 100), so the whole square of a cut one wins the merge."""

    def __init__(self, min_side=6, box_scale=1.0, angle=0.0, num_classes=1, data_preprocessor=None, init_cfg=None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.min_side, self.box_scale, self.angle = min_side, box_scale, angle
        self.gain = nn.Parameter(torch.ones(1))          # something for a checkpoint to hold

    def predict(self, batch_inputs, batch_data_samples, rescale=True):
        for img, sample in zip(batch_inputs, batch_data_samples):
            mask = (img.float().mean(0) * self.gain > 200).detach().cpu().numpy()
            found, _ = ndimage.label(mask)
            boxes, scores = [], []
            for rows, cols in ndimage.find_objects(found):
                h, w = rows.stop - rows.start, cols.stop - cols.start
                if min(h, w) >= self.min_side:
                    boxes.append([(cols.start + cols.stop) / 2, (rows.start + rows.stop) / 2,
                                  w * self.box_scale, h * self.box_scale, self.angle])
                    scores.append(w * h / (w * h + 100))
            boxes = torch.tensor(boxes, dtype=torch.float32).reshape(-1, 5)
            if rescale:
                sx, sy = sample.metainfo['scale_factor']
                boxes[:, 0::2] /= torch.tensor([sx, sx, 1.0])
                boxes[:, 1:4:2] /= sy
            sample.pred_instances = InstanceData(bboxes=boxes, scores=torch.tensor(scores).reshape(-1),
                                                 labels=torch.zeros(len(boxes), dtype=torch.long))
        return batch_data_samples

    def extract_feat(self, batch_inputs):
        return batch_inputs

    def loss(self, batch_inputs, batch_data_samples):
        raise NotImplementedError

    def _forward(self, batch_inputs, batch_data_samples=None):
        raise NotImplementedError


def write_blob_config(path, scale=100, loader="dict(type='mmdet.LoadImageFromFile')", resize=None, **model_options):
    """A config of ``BlobDetector`` with a test pipeline that loads with ``loader`` and resizes to ``scale`` px
    (or as the ``resize`` step's config text says, e.g. ``"dict(type='mmdet.Resize', scale_factor=1.0)"``;
    and a one-class DOTA test set, for the classes); returns its path."""
    options = ''.join(f', {k}={v!r}' for k, v in model_options.items())
    resize = resize or f"dict(type='mmdet.Resize', scale=({scale}, {scale}), keep_ratio=True)"
    path.write_text(f"""
default_scope = 'visiondiv'
model = dict(type='BlobDetector', data_preprocessor=dict(type='mmdet.DetDataPreprocessor', pad_size_divisor=1)
             {options})
test_pipeline = [
    {loader},
    {resize},
    dict(type='mmdet.PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
test_dataloader = dict(dataset=dict(type='DOTADataset', metainfo=dict(classes=('blob',)), data_root='',
                                    ann_file='', pipeline=test_pipeline))
visualizer = dict(type='RotLocalVisualizer', name='blob_visualizer')
""")
    return str(path)


def save_blob_checkpoint(path, classes=('blob',)):
    torch.save(dict(meta=dict(dataset_meta=dict(classes=classes)), state_dict={'gain': torch.ones(1)}), str(path))
    return str(path)


def blob_image(path, size=400, side=12, centres=None, bits=8):
    """A dark ``size`` px image with white ``side`` px squares at ``centres`` (a 4 x 3 grid by default);
    written as PNG (BGR; ``bits`` > 8: 16-bit samples holding ``bits``-bit data), returns the centres."""
    import cv2
    if centres is None:
        centres = [(40 + 100 * i, 50 + 130 * j) for i in range(4) for j in range(3)]
    dtype = np.uint8 if bits == 8 else np.uint16
    img = np.full((size, size, 3), 20 << (bits - 8), dtype)
    for cx, cy in centres:
        img[cy - side // 2:cy + side // 2, cx - side // 2:cx + side // 2] = (1 << bits) - 1
    assert cv2.imwrite(str(path), img) and osp.isfile(str(path))
    return centres
