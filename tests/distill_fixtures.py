"""A tiny classifier of the interface ``SingleTeacherDistill`` distils (conv + BN + GAP + linear), for the tests."""
import torch
import torch.nn.functional as F
from mmengine.model import BaseModel, BaseModule
from mmengine.structures import BaseDataElement
from torch import nn

from visiondiv.registry import MODELS

STUB = 'DistillStubClassifier'


class StubHead(BaseModule):
    """Linear head: ``forward`` logits, ``loss`` cross-entropy + accuracy, ``predict`` scores and labels."""

    def __init__(self, in_channels: int, num_classes: int) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.fc = nn.Linear(in_channels, num_classes)

    def forward(self, feats):
        return self.fc(feats[-1])

    def loss(self, feats, data_samples):
        logits = self(feats)
        labels = torch.cat([s.gt_label.reshape(-1) for s in data_samples]).long()
        return dict(loss=F.cross_entropy(logits, labels), accuracy=(logits.argmax(1) == labels).float().mean())

    def predict(self, feats, data_samples=None):
        scores = self(feats).softmax(1)
        samples = data_samples if data_samples is not None else [BaseDataElement() for _ in range(len(scores))]
        for sample, score in zip(samples, scores):
            sample.set_field(score, 'pred_score')
            sample.set_field(score.argmax().reshape(1), 'pred_label')
        return samples


@MODELS.register_module(name=STUB, force=True)
class StubClassifier(BaseModel):
    """conv(3 -> channels) + BN + ReLU + global average pooling, then :class:`StubHead`."""

    def __init__(self, num_classes: int = 3, channels: int = 4, dropout: float = 0.0,
                 data_preprocessor=None, init_cfg=None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.conv = nn.Conv2d(3, channels, 3, padding=1)
        self.bn = nn.BatchNorm2d(channels)
        self.drop = nn.Dropout(dropout)
        self.head = StubHead(channels, num_classes)

    def extract_feat(self, inputs):
        return (self.drop(F.relu(self.bn(self.conv(inputs))).mean((2, 3))),)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        feats = self.extract_feat(inputs)
        if mode == 'loss':
            return self.head.loss(feats, data_samples)
        if mode == 'predict':
            return self.head.predict(feats, data_samples)
        return self.head(feats)


def stub(**kwargs) -> dict:
    """The config of a :class:`StubClassifier`."""
    return dict(type=STUB, **kwargs)


def batch(n: int = 6, num_classes: int = 3, seed: int = 0, labels=None):
    """``(inputs (n, 3, 8, 8), data samples with gt_label)``."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, 8, 8, generator=g)
    if labels is None:
        labels = torch.randint(0, num_classes, (n,), generator=g).tolist()
    return x, [BaseDataElement(gt_label=torch.tensor([y])) for y in labels]
