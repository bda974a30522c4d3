"""mmpretrain's ``LinearClsHead``: one fully connected layer on the last feature, cross-entropy, softmax scores."""
from typing import Dict, List, Optional, Sequence, Union

import torch
from mmengine.model import BaseModule
from mmengine.structures import BaseDataElement
from torch import Tensor, nn

from visiondiv.registry import MODELS
from visiondiv.structures import ClsDataSample, format_label

FeatsType = Union[Tensor, Sequence[Tensor]]


@MODELS.register_module()
class LinearClsHead(BaseModule):
    """``fc(feats[-1])`` -> (N, num_classes) logits; the head of :class:`~visiondiv.models.ImageClassifier`.

    The interface (mmpretrain's ``ClsHead``) that the classifier and the distillation wrappers use:

    * ``head(feats)`` -> logits (N, num_classes), ``feats`` a tuple of (N, in_channels) features (the neck's
      output) of which the last is used, or one tensor;
    * ``head.loss(feats, data_samples)`` -> ``dict(loss=...)`` (``loss`` of the logits and the samples'
      ``gt_label``; with ``cal_acc``, also ``accuracy_top-k`` in percent);
    * ``head.predict(feats, data_samples=None)`` -> the data samples with ``pred_score`` (softmax, (num_classes, ))
      and ``pred_label`` (0-d long); new :class:`~visiondiv.structures.ClsDataSample` when None.

    The linear layer is ``fc`` (state-dict keys ``head.fc.weight`` / ``head.fc.bias``, as mmpretrain and as
    mdistiller's CIFAR nets).

    Args:
        num_classes (int): Number of classes, a positive int.
        in_channels (int): Width of the features, a positive int.
        loss (dict | nn.Module): Loss of ``(logits, labels)`` (mean over the batch): a config (built in the model
            registry, e.g. ``dict(type='mmdet.CrossEntropyLoss', loss_weight=1.0)``) or a module such as
            ``torch.nn.CrossEntropyLoss()``. Defaults to ``dict(type='mmdet.CrossEntropyLoss', loss_weight=1.0)``.
        topk (int | Sequence[int]): The k of the training accuracies of ``cal_acc``. Defaults to ``(1, 5)``.
        cal_acc (bool): Add ``accuracy_top-k`` (percent, no gradient) to the loss dict. Defaults to False.
        init_cfg (dict or list[dict], optional): mmengine init config, applied by ``init_weights`` (mmengine's
            Runner calls it). Defaults to ``dict(type='Normal', layer='Linear', std=0.01)`` (mmpretrain's).

    Raises:
        ValueError: ``num_classes`` / ``in_channels`` not positive ints, ``topk`` not positive ints, or (with
            ``cal_acc``) a k above ``num_classes``; in ``forward``, features whose width is not ``in_channels``
            (the message names ``in_channels``); in ``loss``, a ``gt_label`` outside ``0 .. num_classes - 1``.
        TypeError: ``loss`` neither a dict nor an ``nn.Module``.
    """

    def __init__(self, num_classes: int, in_channels: int,
                 loss: Union[dict, nn.Module] = dict(type='mmdet.CrossEntropyLoss', loss_weight=1.0),
                 topk: Union[int, Sequence[int]] = (1, 5), cal_acc: bool = False,
                 init_cfg: Optional[Union[dict, list]] = dict(type='Normal', layer='Linear', std=0.01)) -> None:
        super().__init__(init_cfg=init_cfg)
        for name, value in (('num_classes', num_classes), ('in_channels', in_channels)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f'LinearClsHead: {name} must be a positive int, got {value!r}')
        topk = (topk, ) if isinstance(topk, int) else tuple(topk)
        if not topk or any(isinstance(k, bool) or not isinstance(k, int) or k < 1 for k in topk):
            raise ValueError(f'LinearClsHead: topk must be positive ints, got {topk!r}')
        if cal_acc and max(topk) > num_classes:
            raise ValueError(f'LinearClsHead: cal_acc with topk={topk} needs at least {max(topk)} classes, '
                             f'num_classes={num_classes}')
        if isinstance(loss, dict):
            loss = MODELS.build(loss)
        elif not isinstance(loss, nn.Module):
            raise TypeError(f'LinearClsHead: loss must be a config dict or an nn.Module, got {type(loss).__name__}')
        self.num_classes, self.in_channels = num_classes, in_channels
        self.topk, self.cal_acc = topk, cal_acc
        self.loss_module = loss
        self.fc = nn.Linear(in_channels, num_classes)

    def pre_logits(self, feats: FeatsType) -> Tensor:
        """The last of ``feats`` (a tuple / list, or one tensor), checked to be (N, in_channels).

        Args:
            feats (Tensor | Sequence[Tensor]): The neck's (or backbone's) outputs.

        Returns:
            Tensor: (N, in_channels) features.

        Raises:
            ValueError: naming ``in_channels`` when the features are not (N, in_channels).
        """
        if isinstance(feats, (tuple, list)):
            if not feats:
                raise ValueError('LinearClsHead: got an empty tuple of features')
            feats = feats[-1]
        if not isinstance(feats, Tensor) or feats.dim() != 2 or feats.size(1) != self.in_channels:
            shape = tuple(feats.shape) if isinstance(feats, Tensor) else type(feats).__name__
            hint = ' (pool (N, C, H, W) maps with a neck such as GlobalAveragePooling)' \
                if isinstance(feats, Tensor) and feats.dim() > 2 else ''
            raise ValueError(f'LinearClsHead: features of shape {shape} do not match in_channels={self.in_channels}: '
                             f'expected (N, {self.in_channels}){hint}')
        return feats

    def forward(self, feats: FeatsType) -> Tensor:
        """Features -> (N, num_classes) logits (see :meth:`pre_logits`)."""
        return self.fc(self.pre_logits(feats))

    def gather_gt_labels(self, data_samples: Sequence[BaseDataElement], device: Optional[torch.device] = None
                         ) -> Tensor:
        """The ``gt_label`` of each data sample as one (N, ) long tensor, checked against ``num_classes``.

        Args:
            data_samples (Sequence[BaseDataElement]): Samples with a ``gt_label`` (0-d or one-element tensor,
                or int).
            device (torch.device, optional): Device of the result. Defaults to None (the CPU).

        Returns:
            Tensor: (N, ) ``torch.long`` labels.

        Raises:
            KeyError: A sample without ``gt_label``.
            ValueError: A ``gt_label`` that is not one integer or is outside ``0 .. num_classes - 1``.
        """
        labels = []
        for i, sample in enumerate(data_samples):
            if 'gt_label' not in sample:
                raise KeyError(f'LinearClsHead: data sample {i} has no gt_label (pack it with PackClsInputs)')
            try:
                labels.append(format_label(sample.gt_label, 'gt_label').to(device))
            except ValueError as err:
                raise ValueError(f'LinearClsHead: data sample {i}: {err}') from None
        if not labels:
            raise ValueError('LinearClsHead: no data samples')
        labels = torch.stack(labels)
        bad = (labels < 0) | (labels >= self.num_classes)
        if bad.any():
            raise ValueError(f'LinearClsHead: gt_label {labels[bad].unique().tolist()} outside '
                             f'0..{self.num_classes - 1} (num_classes={self.num_classes}), in data samples '
                             f'{bad.nonzero()[:, 0].tolist()}')
        return labels

    def loss(self, feats: FeatsType, data_samples: Sequence[BaseDataElement], **kwargs) -> Dict[str, Tensor]:
        """The classification loss of a batch.

        Args:
            feats (Tensor | Sequence[Tensor]): The neck's outputs (the last one is used).
            data_samples (Sequence[BaseDataElement]): One per image, with ``gt_label``.
            **kwargs: Passed to the loss module.

        Returns:
            dict[str, Tensor]: ``loss``; with ``cal_acc``, ``accuracy_top-{k}`` for each k of ``topk``.

        Raises:
            KeyError: A sample without ``gt_label``.
            ValueError: As :meth:`gather_gt_labels`; a number of samples other than the batch size.
        """
        cls_score = self(feats)
        target = self.gather_gt_labels(data_samples, cls_score.device)
        if target.numel() != cls_score.size(0):
            raise ValueError(f'LinearClsHead: {target.numel()} data samples for a batch of {cls_score.size(0)}')
        losses = dict(loss=self.loss_module(cls_score, target, **kwargs))
        if self.cal_acc:
            with torch.no_grad():
                top = cls_score.topk(max(self.topk), dim=1).indices
                hits = top == target[:, None]
                for k in self.topk:
                    losses[f'accuracy_top-{k}'] = hits[:, :k].any(1).float().mean() * 100.0
        return losses

    def predict(self, feats: FeatsType, data_samples: Optional[List[Optional[BaseDataElement]]] = None
                ) -> List[BaseDataElement]:
        """Softmax scores and arg-max labels of a batch.

        Args:
            feats (Tensor | Sequence[Tensor]): The neck's outputs (the last one is used).
            data_samples (list[BaseDataElement | None], optional): Samples to write ``pred_score`` /
                ``pred_label`` into (a None entry gets a new ``ClsDataSample``). Defaults to None: new ones.

        Returns:
            list[BaseDataElement]: The data samples, with ``pred_score`` ((num_classes, ) float, detached) and
            ``pred_label`` (0-d long).

        Raises:
            ValueError: A number of samples other than the batch size; as :meth:`pre_logits`.
        """
        scores = self(feats).detach().float().softmax(dim=1)
        if data_samples is None:
            data_samples = [None] * scores.size(0)
        if len(data_samples) != scores.size(0):
            raise ValueError(f'LinearClsHead: {len(data_samples)} data samples for a batch of {scores.size(0)}')
        out = []
        for sample, score in zip(data_samples, scores):
            sample = ClsDataSample() if sample is None else sample
            sample.set_field(score, 'pred_score', dtype=Tensor)
            sample.set_field(score.argmax().reshape(()), 'pred_label', dtype=Tensor)
            out.append(sample)
        return out
