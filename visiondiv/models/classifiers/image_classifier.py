"""mmpretrain's ``ImageClassifier``: backbone -> optional neck -> head, for single-label image classification."""
from typing import Dict, List, Optional, Tuple, Union

from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement
from torch import Tensor

from visiondiv.registry import MODELS

_STAGES = ('backbone', 'neck', 'pre_logits')


@MODELS.register_module()
class ImageClassifier(BaseModel):
    """A backbone, an optional neck and a classification head (:class:`~visiondiv.models.LinearClsHead`).

    The interface (mmpretrain's) that distillation wrappers rely on:

    * ``extract_feat(inputs)`` -> the neck's outputs as a tuple (backbone -> neck), e.g. ``((N, C), )``;
    * ``head(feats)`` -> (N, num_classes) logits; ``head.loss(feats, data_samples)`` -> ``dict(loss=...)``;
      ``head.predict(feats, data_samples)`` -> samples with ``pred_score`` / ``pred_label``;
      ``head.num_classes``;
    * ``forward(inputs, data_samples, mode)``: ``'tensor'`` -> logits (the features when there is no head),
      ``'loss'`` -> the head's loss dict, ``'predict'`` -> the head's predictions.

    mmdet's ResNet works as a backbone: ``backbone=dict(type='mmdet.ResNet', depth=18, out_indices=(3, ))`` with
    ``neck=dict(type='GlobalAveragePooling')`` and ``head=dict(type='LinearClsHead', in_channels=512, ...)``.

    Args:
        backbone (dict): Backbone config; it returns a tensor or a tuple of tensors (one per ``out_indices``).
        neck (dict, optional): Neck config (``GlobalAveragePooling``). Defaults to None.
        head (dict, optional): Head config (``LinearClsHead``); without one only ``mode='tensor'`` works.
            Defaults to None.
        train_cfg (dict, optional): mmpretrain's training config; its only key there, ``augments`` (batch
            augments such as Mixup), is not implemented. Defaults to None.
        data_preprocessor (dict, optional): ``ClsDataPreprocessor`` config; a dict without ``type`` gets
            ``type='ClsDataPreprocessor'`` (so a config's top-level ``data_preprocessor``, which mmengine's Runner
            hands to the model, works as in mmpretrain); None means ``dict(type='ClsDataPreprocessor')``.
            Defaults to None.
        init_cfg (dict or list[dict], optional): mmengine init config. Defaults to None.

    Raises:
        ValueError: A ``train_cfg`` with ``augments`` (or another key).
    """

    def __init__(self, backbone: dict, neck: Optional[dict] = None, head: Optional[dict] = None,
                 train_cfg: Optional[dict] = None, data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        if train_cfg:
            raise ValueError(f'ImageClassifier: train_cfg {dict(train_cfg)!r} is not supported (mmpretrain\'s '
                             "batch augments, train_cfg['augments'], are not implemented)")
        data_preprocessor = dict(data_preprocessor or {})
        data_preprocessor.setdefault('type', 'ClsDataPreprocessor')
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.train_cfg = train_cfg
        self.backbone = MODELS.build(backbone)
        self.neck = MODELS.build(neck) if neck is not None else None
        self.head = MODELS.build(head) if head is not None else None

    @property
    def with_neck(self) -> bool:
        """Whether the model has a neck."""
        return self.neck is not None

    @property
    def with_head(self) -> bool:
        """Whether the model has a head."""
        return self.head is not None

    def extract_feat(self, inputs: Tensor, stage: str = 'neck') -> Tuple[Tensor, ...]:
        """Features of a batch: the backbone's outputs, then the neck's.

        Args:
            inputs (Tensor): (N, C, H, W) images (normalised by the data preprocessor).
            stage (str): Where to stop: ``'backbone'``, ``'neck'`` (the head's input) or ``'pre_logits'`` (the
                head's ``pre_logits``, a tensor). Defaults to ``'neck'``.

        Returns:
            tuple[Tensor]: The backbone's (``stage='backbone'``) or the neck's outputs, always a tuple; the
            (N, in_channels) tensor of the head for ``'pre_logits'``.

        Raises:
            ValueError: An unknown ``stage``, or ``'pre_logits'`` without a head.
        """
        if stage not in _STAGES:
            raise ValueError(f'ImageClassifier: stage must be one of {_STAGES}, got {stage!r}')
        x = self.backbone(inputs)
        x = tuple(x) if isinstance(x, (tuple, list)) else (x, )
        if stage == 'backbone':
            return x
        if self.with_neck:
            x = self.neck(x)
            x = tuple(x) if isinstance(x, (tuple, list)) else (x, )
        if stage == 'neck':
            return x
        if not self.with_head:
            raise ValueError("ImageClassifier: stage='pre_logits' needs a head")
        return self.head.pre_logits(x)

    def _require_head(self, mode: str) -> None:
        if not self.with_head:
            raise ValueError(f"ImageClassifier: mode={mode!r} needs a head (only mode='tensor' works without one)")

    def loss(self, inputs: Tensor, data_samples: List[BaseDataElement]) -> Dict[str, Tensor]:
        """The head's losses of a batch.

        Args:
            inputs (Tensor): (N, C, H, W) images.
            data_samples (list[BaseDataElement]): One per image, with ``gt_label``.

        Returns:
            dict[str, Tensor]: The head's loss dict (``loss``...).

        Raises:
            ValueError: Without a head; as the head's ``loss`` (a ``gt_label`` outside the classes...).
        """
        self._require_head('loss')
        return self.head.loss(self.extract_feat(inputs), data_samples)

    def predict(self, inputs: Tensor, data_samples: Optional[List[BaseDataElement]] = None
                ) -> List[BaseDataElement]:
        """The head's predictions of a batch.

        Args:
            inputs (Tensor): (N, C, H, W) images.
            data_samples (list[BaseDataElement], optional): Samples to write the predictions into. Defaults
                to None (new ``ClsDataSample``).

        Returns:
            list[BaseDataElement]: Samples with ``pred_score`` (num_classes, ) and ``pred_label``.

        Raises:
            ValueError: Without a head.
        """
        self._require_head('predict')
        return self.head.predict(self.extract_feat(inputs), data_samples)

    def forward(self, inputs: Tensor, data_samples: Optional[List[BaseDataElement]] = None,
                mode: str = 'tensor') -> Union[Tensor, Tuple[Tensor, ...], Dict[str, Tensor], List[BaseDataElement]]:
        """mmengine's three modes.

        Args:
            inputs (Tensor): (N, C, H, W) images.
            data_samples (list[BaseDataElement], optional): The batch's samples (``'loss'``: required).
                Defaults to None.
            mode (str): ``'tensor'`` (logits, or the neck's outputs without a head), ``'loss'`` or
                ``'predict'``. Defaults to ``'tensor'``.

        Returns:
            Tensor | tuple[Tensor] | dict[str, Tensor] | list[BaseDataElement]: As the mode says.

        Raises:
            RuntimeError: An unknown ``mode``.
        """
        if mode == 'tensor':
            feats = self.extract_feat(inputs)
            return self.head(feats) if self.with_head else feats
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        raise RuntimeError(f"ImageClassifier: invalid mode {mode!r}; expected 'tensor', 'loss' or 'predict'")
