"""SimGCD (Wen et al., ICCV 2023) and LegoGCD (Cao et al., CVPR 2024): parametric generalized category discovery."""
from typing import Dict, List, Optional

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement
from torch import Tensor

from visiondiv.registry import MODELS
from ..losses.utils import compute_dtype


def _build_optional(cfg: Optional[dict]):
    return MODELS.build(cfg) if cfg is not None else None


@MODELS.register_module()
class SimGCD(BaseModel):
    """A backbone + ``DINOHead`` classifier trained on labelled and unlabelled images of known and novel classes.

    The loss of a batch of two views (``(B, 2, C, H, W)`` from ``GCDDataPreprocessor``), with
    λ = ``sup_weight`` (0.35):

        (1 - λ) (cluster + me_max [+ dual-view KL] + contrastive) + λ (ce + supcon) [+ ler]

    - ce: cross-entropy of the labelled samples' logits / ``cls_temp`` (both views);
    - supcon: ``SupConLoss`` of the labelled samples' projections;
    - cluster: ``CrossViewDistillLoss`` (teacher = the detached logits, its temperature set per epoch by
      ``TeacherTempScheduleHook``);
    - me_max: ``MeanEntropyLoss`` of all logits;
    - contrastive: ``InfoNCELoss`` of all projections;
    - LegoGCD adds ``loss_ler`` (``LocalEntropyLoss`` on unlabelled samples) and ``loss_dual_view_kl``
      (``DualViewKLLoss``, inside the clustering group as in the official code).

    Each key of the returned dict is already weighted; ``ler_selected`` (not a loss) logs how many samples LER
    used. ``predict`` classifies view 0 and sets ``pred_label`` and ``pred_score`` on each data sample.

    Args:
        backbone (dict): Config of a backbone returning (B, D) features (``CLSTokenVisionTransformer``,
            ``SmallConvNet``); of a list/tuple of outputs, the last is used.
        head (dict): ``DINOHead`` config (its ``num_classes`` = known + novel).
        num_known_classes (int): The known classes are labels 0 .. num_known_classes - 1 (``GCDDataset``'s
            order); in 1 .. the head's ``num_classes``.
        sup_weight (float): λ, in [0, 1]. Defaults to 0.35.
        cls_temp (float): Temperature of the supervised cross-entropy, > 0. Defaults to 0.1.
        loss_cluster (dict): Clustering loss config (SimGCD's default). Defaults to
            ``dict(type='CrossViewDistillLoss', student_temp=0.1, teacher_temp=0.07)``.
        loss_me_max (dict): Mean-entropy regulariser config (SimGCD's default). Defaults to
            ``dict(type='MeanEntropyLoss', temperature=0.1, loss_weight=1.0)``.
        loss_contrastive (dict): Unsupervised contrastive loss config (SimGCD's default). Defaults to
            ``dict(type='InfoNCELoss', temperature=1.0)``.
        loss_supcon (dict): Supervised contrastive loss config (SimGCD's default). Defaults to
            ``dict(type='SupConLoss', temperature=0.07)``.
        loss_ler (dict, optional): LegoGCD's ``LocalEntropyLoss`` config, None to leave it out; its
            ``num_classes`` and ``num_known_classes`` must be the model's. Defaults to None.
        loss_dual_view_kl (dict, optional): LegoGCD's ``DualViewKLLoss`` config, None to leave it out.
            Defaults to None.
        data_preprocessor (dict, optional): ``GCDDataPreprocessor`` config; None means
            ``dict(type='GCDDataPreprocessor')``. Defaults to None.
        init_cfg (dict, optional): mmengine init config. Defaults to None.

    Raises:
        ValueError: If ``sup_weight`` is outside [0, 1], ``cls_temp`` <= 0, ``num_known_classes`` is outside
            1 .. the head's ``num_classes``, or ``loss_ler``'s class counts differ from the model's.
    """

    def __init__(self, backbone: dict, head: dict, num_known_classes: int, sup_weight: float = 0.35,
                 cls_temp: float = 0.1,
                 loss_cluster: dict = dict(type='CrossViewDistillLoss', student_temp=0.1, teacher_temp=0.07),
                 loss_me_max: dict = dict(type='MeanEntropyLoss', temperature=0.1, loss_weight=1.0),
                 loss_contrastive: dict = dict(type='InfoNCELoss', temperature=1.0),
                 loss_supcon: dict = dict(type='SupConLoss', temperature=0.07),
                 loss_ler: Optional[dict] = None, loss_dual_view_kl: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None, init_cfg: Optional[dict] = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='GCDDataPreprocessor')
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if not 0 <= sup_weight <= 1:
            raise ValueError(f'SimGCD: sup_weight must be in [0, 1], got {sup_weight!r}')
        if not cls_temp > 0:
            raise ValueError(f'SimGCD: cls_temp must be > 0, got {cls_temp!r}')
        self.backbone = MODELS.build(backbone)
        self.head = MODELS.build(head)
        self.num_classes = int(self.head.num_classes)
        if not 0 < num_known_classes <= self.num_classes:
            raise ValueError(f'SimGCD: num_known_classes={num_known_classes} must be in 1..{self.num_classes} (the '
                             "head's num_classes)")
        self.num_known_classes = num_known_classes
        self.sup_weight, self.cls_temp = sup_weight, cls_temp
        self.loss_cluster = MODELS.build(loss_cluster)
        self.loss_me_max = MODELS.build(loss_me_max)
        self.loss_contrastive = MODELS.build(loss_contrastive)
        self.loss_supcon = MODELS.build(loss_supcon)
        self.loss_ler = _build_optional(loss_ler)
        self.loss_dual_view_kl = _build_optional(loss_dual_view_kl)
        if self.loss_ler is not None and (self.loss_ler.num_classes, self.loss_ler.num_known_classes) != (
                self.num_classes, num_known_classes):
            raise ValueError(f'SimGCD: loss_ler has num_classes={self.loss_ler.num_classes}, num_known_classes='
                             f'{self.loss_ler.num_known_classes}; the model {self.num_classes} and '
                             f'{num_known_classes}')

    def extract_feat(self, inputs: Tensor) -> Tensor:
        """(N, C, H, W) images -> (N, D) backbone features."""
        feats = self.backbone(inputs)
        if isinstance(feats, (tuple, list)):
            feats = feats[-1]
        if not isinstance(feats, Tensor) or feats.dim() != 2:
            raise TypeError(f'SimGCD: the backbone must return (N, D) features, got '
                            f'{getattr(feats, "shape", type(feats).__name__)}')
        return feats

    def forward(self, inputs: Tensor, data_samples: Optional[List[BaseDataElement]] = None, mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.head(self.extract_feat(self._views(inputs)[0]))
        raise RuntimeError(f"SimGCD: invalid mode {mode!r}; expected 'loss', 'predict' or 'tensor'")

    @staticmethod
    def _views(inputs: Tensor) -> List[Tensor]:
        if inputs.dim() == 4:
            inputs = inputs[:, None]
        if inputs.dim() != 5:
            raise ValueError(f'SimGCD: inputs must be (B, V, C, H, W), got {tuple(inputs.shape)}')
        return list(inputs.unbind(1))

    @staticmethod
    def _labels(data_samples: List[BaseDataElement], device: torch.device):
        for i, s in enumerate(data_samples):
            for key in ('gt_label', 'labelled'):
                if key not in s:
                    raise KeyError(f'SimGCD: data sample {i} has no {key!r} (use PackGCDInputs)')
        labels = torch.stack([torch.as_tensor(s.gt_label).reshape(()) for s in data_samples]).long().to(device)
        labelled = torch.tensor([bool(s.labelled) for s in data_samples], device=device)
        return labels, labelled

    def loss(self, inputs: Tensor, data_samples: List[BaseDataElement]) -> Dict[str, Tensor]:
        views = self._views(inputs)
        if len(views) != 2:
            raise ValueError(f'SimGCD trains on 2 views per image, got {len(views)} (MultiView num_views=2)')
        labels, labelled = self._labels(data_samples, inputs.device)
        if (labels[labelled] >= self.num_known_classes).any() or (labels[labelled] < 0).any():
            bad = labels[labelled & ((labels >= self.num_known_classes) | (labels < 0))].unique().tolist()
            raise ValueError(f'SimGCD: labelled samples of classes {bad} outside the known classes '
                             f'0..{self.num_known_classes - 1}')
        proj, logits = self.head(self.extract_feat(torch.cat(views)))
        # losses in fp32 under mixed precision (half logits / 0.1 and their softmax lose too much)
        proj, logits = proj.to(compute_dtype(proj.dtype)), logits.to(compute_dtype(logits.dtype))
        lam = self.sup_weight
        both = torch.cat([labelled, labelled])

        sup_logits = logits[both] / self.cls_temp
        ce = F.cross_entropy(sup_logits, torch.cat([labels, labels])[both]) if both.any() else logits.sum() * 0.0
        sup_proj = torch.stack([p[labelled] for p in proj.chunk(2)], dim=1)
        supcon = self.loss_supcon(sup_proj, labels[labelled])

        losses = dict(
            loss_cls=lam * ce,
            loss_supcon=lam * supcon,
            loss_cluster=(1 - lam) * self.loss_cluster(logits, logits.detach()),
            loss_me_max=(1 - lam) * self.loss_me_max(logits),
            loss_contrastive=(1 - lam) * self.loss_contrastive(proj))
        if self.loss_dual_view_kl is not None:
            losses['loss_dual_view_kl'] = (1 - lam) * self.loss_dual_view_kl(logits)
        if self.loss_ler is not None:
            losses['loss_ler'] = self.loss_ler(logits, ~both)
            losses['ler_selected'] = logits.new_tensor(float(self.loss_ler.last_num_selected))
        return losses

    @torch.no_grad()
    def predict(self, inputs: Tensor, data_samples: Optional[List[BaseDataElement]] = None
                ) -> List[BaseDataElement]:
        """Classify view 0 of each image; the data samples get ``pred_label`` and ``pred_score``."""
        _, logits = self.head(self.extract_feat(self._views(inputs)[0]))
        scores = logits.float().softmax(-1)
        if data_samples is None:
            data_samples = [BaseDataElement() for _ in range(scores.size(0))]
        for sample, score in zip(data_samples, scores):
            sample.set_data(dict(pred_label=score.argmax().reshape(()), pred_score=score))
        return data_samples


@MODELS.register_module()
class LegoGCD(SimGCD):
    """SimGCD + LegoGCD's Local Entropy Regularization and dual-view KL constraint (Cao et al., CVPR 2024).

    Same arguments as :class:`SimGCD`, with LegoGCD's terms on by default: ``loss_ler`` (``LocalEntropyLoss``;
    ``num_classes`` and ``num_known_classes`` are filled in from the model when absent; set ``thr`` per
    dataset) and ``loss_dual_view_kl`` (``DualViewKLLoss``, ``mode='correct'``; ``'official'`` reproduces the official
    code). Give ``None`` to drop one of them (the LER-only / dual-view-KL-only ablations).

    Args:
        backbone (dict): As :class:`SimGCD`.
        head (dict): As :class:`SimGCD`; its ``num_classes`` is the default of ``loss_ler``'s.
        num_known_classes (int): As :class:`SimGCD`; the default of ``loss_ler``'s.
        loss_ler (dict, optional): ``LocalEntropyLoss`` config, None to leave LER out.
            Defaults to ``dict(type='LocalEntropyLoss', thr=0.7)``.
        loss_dual_view_kl (dict, optional): ``DualViewKLLoss`` config, None to leave the term out.
            Defaults to ``dict(type='DualViewKLLoss')``.
        dual_view_kl_mode (str, optional): Shorthand for ``loss_dual_view_kl``'s ``mode`` (``'correct'`` or
            ``'official'``); None keeps ``loss_dual_view_kl``'s own. A ``loss_dual_view_kl`` that states another
            mode is refused. Defaults to None.
        **kwargs: Other arguments of :class:`SimGCD` (``sup_weight``, ``cls_temp``, the other loss configs,
            ``data_preprocessor``, ``init_cfg``).

    Raises:
        ValueError: If ``dual_view_kl_mode`` is given with ``loss_dual_view_kl=None`` or contradicts its
            ``mode``; and as :class:`SimGCD`.
    """

    def __init__(self, backbone: dict, head: dict, num_known_classes: int,
                 loss_ler: Optional[dict] = dict(type='LocalEntropyLoss', thr=0.7),
                 loss_dual_view_kl: Optional[dict] = dict(type='DualViewKLLoss'),
                 dual_view_kl_mode: Optional[str] = None, **kwargs) -> None:
        if loss_ler is not None:
            loss_ler = dict(loss_ler)
            loss_ler.setdefault('num_classes', head['num_classes'])
            loss_ler.setdefault('num_known_classes', num_known_classes)
        if dual_view_kl_mode is not None:
            if loss_dual_view_kl is None:
                raise ValueError(f'LegoGCD: dual_view_kl_mode={dual_view_kl_mode!r} but loss_dual_view_kl is None '
                                 '(no dual-view KL term)')
            loss_dual_view_kl = dict(loss_dual_view_kl)
            if loss_dual_view_kl.get('mode', dual_view_kl_mode) != dual_view_kl_mode:
                raise ValueError(f"LegoGCD: dual_view_kl_mode={dual_view_kl_mode!r} contradicts loss_dual_view_kl's "
                                 f"mode={loss_dual_view_kl['mode']!r}")
            loss_dual_view_kl['mode'] = dual_view_kl_mode
        super().__init__(backbone=backbone, head=head, num_known_classes=num_known_classes, loss_ler=loss_ler,
                         loss_dual_view_kl=loss_dual_view_kl, **kwargs)
