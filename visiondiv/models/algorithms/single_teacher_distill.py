"""Logit distillation from one teacher classifier into a student classifier (mmrazor's ``SingleTeacherDistill``)."""
import inspect
import os.path as osp
from typing import Dict, List, Mapping, Optional, Sequence, Union

import torch
from mmengine.config import Config
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement
from torch import Tensor, nn

from visiondiv.registry import MODELS
from visiondiv.utils.checkpoint import CheckpointMismatchError, load_checkpoint_checked
from visiondiv.utils.validation import check_finite

#: the state-dict prefix of the student's weights in a checkpoint of the wrapper
STUDENT_PREFIX = 'architecture.'
#: the state-dict prefix of the teacher's weights
TEACHER_PREFIX = 'teacher.'


def _build_model(cfg: Union[dict, str, nn.Module], key: str) -> nn.Module:
    """A classifier from a config dict, a config file (its ``model``) or a built module."""
    if isinstance(cfg, nn.Module):
        return cfg
    if isinstance(cfg, str):
        if not osp.isfile(osp.expanduser(cfg)):
            raise FileNotFoundError(f'SingleTeacherDistill: {key}: config file not found: {cfg}')
        file_cfg = Config.fromfile(osp.expanduser(cfg))
        if 'model' not in file_cfg:
            raise KeyError(f'SingleTeacherDistill: {key}: the config file {cfg} has no `model`')
        cfg = file_cfg.model
    if not isinstance(cfg, Mapping):
        raise TypeError(f'SingleTeacherDistill: {key} must be a config dict, a config file path or a model, '
                        f'got {type(cfg).__name__}')
    return MODELS.build(dict(cfg))


def _num_classes(model: nn.Module, key: str) -> int:
    head = getattr(model, 'head', None)
    num_classes = getattr(head, 'num_classes', None)
    if not isinstance(num_classes, int):
        raise AttributeError(f'SingleTeacherDistill: {key} ({type(model).__name__}) must have a head with an '
                             f'integer num_classes ({key}.head.num_classes)')
    return num_classes


def _takes(loss: nn.Module, name: str) -> bool:
    """Whether ``loss.forward`` has a parameter ``name`` (a ``**kwargs`` does not count)."""
    return name in inspect.signature(loss.forward).parameters


def gt_labels_of(data_samples: Sequence[BaseDataElement]) -> Tensor:
    """The (N,) integer labels of single-label data samples (their ``gt_label``).

    Args:
        data_samples (Sequence[BaseDataElement]): one per image, each with a ``gt_label`` tensor of one element.

    Returns:
        Tensor: (N,) int64 labels.

    Raises:
        ValueError: a data sample without ``gt_label``, or with other than one label.
    """
    labels = []
    for i, sample in enumerate(data_samples or ()):
        label = getattr(sample, 'gt_label', None)
        if label is None:
            raise ValueError(f'SingleTeacherDistill: data sample {i} has no gt_label')
        label = torch.as_tensor(label).reshape(-1)
        if label.numel() != 1:
            raise ValueError(f'SingleTeacherDistill: data sample {i} has {label.numel()} labels in gt_label; the '
                             'distillation losses take one class per image')
        labels.append(label)
    if not labels:
        raise ValueError('SingleTeacherDistill: no data samples, so no gt_label')
    return torch.cat(labels).long()


@MODELS.register_module()
class SingleTeacherDistill(BaseModel):
    """A student classifier trained with its own loss plus logit-distillation losses against a teacher.

    Both models are classifiers: ``extract_feat(inputs)`` gives the features, ``head(feats)`` the logits (N, C),
    ``head.loss(feats, data_samples)`` the student's loss dict, ``head.num_classes`` the class count, and
    ``forward(inputs, data_samples, mode)`` the usual ``'loss'``/``'predict'``/``'tensor'`` modes.

    ``loss()`` runs, on the inputs of the student's data preprocessor (the teacher must expect the same
    normalisation):

    - the student: ``head.loss(extract_feat(inputs), data_samples)``, its keys prefixed ``student.`` (those
      holding ``loss`` multiplied by ``student_loss_weight``); the student's logits are the output of the
      ``head(...)`` call inside ``head.loss`` (caught by a forward hook; when the head computes them otherwise,
      ``head(feats)`` is called once more);
    - the teacher: ``head(extract_feat(inputs))`` under ``torch.no_grad`` when frozen; logits with a NaN or
      an inf are refused (``ValueError`` naming the teacher). A trainable teacher also adds its own
      ``head.loss`` as ``teacher.<key>`` (mmrazor's keys);
    - each distillation loss ``name``: ``loss(preds_S=student logits, preds_T=teacher logits[, gt_labels=(N,)])``
      (the labels when its ``forward`` has a ``gt_labels`` parameter), as ``distill.loss_<name>`` (a name
      already starting with ``loss`` is kept: ``distill.<name>``), times ``loss_weights[name]`` (default 1).

    mmengine sums the keys holding ``loss``; the total is ``student_loss_weight * student loss + sum of the
    distillation losses``. ``predict`` and ``mode='tensor'`` are the student's own ``forward`` (so
    ``tools/test.py`` on this config tests the student).

    The last teacher logits and labels of a training ``loss()`` call stay in ``last_teacher_logits`` (N, C,
    detached) and ``last_gt_labels`` (N,; None when no loss needs labels) for ``DistillEpochHook``, which
    accumulates the class prior of the losses with ``accumulate_class_prior`` (GKL) from them. The labels are
    read (one ``gt_label`` per sample) only when a loss takes ``gt_labels`` or has a class prior.

    The teacher's weights come from ``teacher_ckpt``, loaded with the project's checks
    (:func:`~visiondiv.utils.checkpoint.load_checkpoint_checked`, every tensor of the teacher required), and
    are then left alone by ``init_weights``. A frozen teacher (``teacher_trainable=False``) has
    ``requires_grad=False`` and stays in eval mode (BatchNorm statistics and dropout) when the wrapper is put
    in train mode.

    Losses built here get what they need from the models: a loss with ``set_class_prior`` and no prior yet
    gets the uniform (C, C) prior (so its persistent ``class_prior`` buffer has a fixed shape in every
    checkpoint); a ``WassersteinKDLoss`` without a cost gets the cost of the teacher classifier's rows (the
    last ``nn.Linear`` of ``teacher.head`` with C outputs), after ``teacher_ckpt`` is loaded.

    CHECKPOINTS: the wrapper's state dict holds the student under ``architecture.`` and the teacher under
    ``teacher.`` (and the losses' buffers under ``distill_losses.<name>.``). To use the trained student with
    its own config, ``tools/model_converters/distill_to_student.py`` strips ``architecture.`` and drops the
    rest.

    Args:
        architecture (dict | str | nn.Module): the student: a model config, a config file (its ``model``) or
            a built classifier.
        teacher (dict | str | nn.Module): the teacher, likewise.
        teacher_ckpt (str, optional): local checkpoint of the teacher (its state dict, ``module.`` prefixes
            allowed). None leaves the teacher as built (online distillation, or a teacher with its own
            ``init_cfg``). Defaults to None.
        teacher_trainable (bool): train the teacher too (online KD, e.g. with ``BalancedKDLoss
            (teacher_trainable=True)``). Defaults to False.
        distill_losses (dict, optional): ``{name: loss config}``. Defaults to None (no distillation).
        loss_weights (dict, optional): ``{name: multiplier}`` of the distillation losses (on top of each
            loss's own ``loss_weight``). Defaults to None (all 1).
        student_loss_weight (float): multiplier of the student's own losses (mdistiller's CE weight).
            Defaults to 1.0.
        data_preprocessor (dict, optional): None uses the student's. Defaults to None.
        init_cfg (dict, optional): mmengine init config. Defaults to None.

    Raises:
        ValueError: the student's and the teacher's class counts differ (naming
            ``architecture.head.num_classes`` and ``teacher.head.num_classes``), or ``loss_weights`` names a
            loss that is not in ``distill_losses``.
        FileNotFoundError: ``teacher_ckpt`` (or a config file) does not exist, naming it.
        CheckpointMismatchError: ``teacher_ckpt`` is not a checkpoint of the teacher (another architecture or
            class count), naming ``teacher_ckpt`` and the mismatching keys and shapes.
    """

    def __init__(self, architecture: Union[dict, str, nn.Module], teacher: Union[dict, str, nn.Module],
                 teacher_ckpt: Optional[str] = None, teacher_trainable: bool = False,
                 distill_losses: Optional[Dict[str, dict]] = None, loss_weights: Optional[Dict[str, float]] = None,
                 student_loss_weight: float = 1.0, data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        student = _build_model(architecture, 'architecture')
        if data_preprocessor is None:
            data_preprocessor = getattr(student, 'data_preprocessor', None)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.architecture = student
        self.teacher = _build_model(teacher, 'teacher')
        c_s, c_t = _num_classes(self.architecture, 'architecture'), _num_classes(self.teacher, 'teacher')
        if c_s != c_t:
            raise ValueError(f'SingleTeacherDistill: architecture.head.num_classes is {c_s} but '
                             f'teacher.head.num_classes is {c_t}; student and teacher must predict the same classes')
        self.num_classes = c_s
        self.teacher_ckpt, self.teacher_trainable = teacher_ckpt, bool(teacher_trainable)
        self.student_loss_weight = float(student_loss_weight)
        if teacher_ckpt is not None:
            self._load_teacher(teacher_ckpt)
        if not self.teacher_trainable:
            self.teacher.requires_grad_(False)
            self.teacher.eval()
        self.distill_losses = nn.ModuleDict(
            {name: MODELS.build(cfg) if isinstance(cfg, Mapping) else cfg
             for name, cfg in (distill_losses or {}).items()})
        self.loss_weights = {name: 1.0 for name in self.distill_losses}
        unknown = set(loss_weights or {}) - set(self.distill_losses)
        if unknown:
            raise ValueError(f'SingleTeacherDistill: loss_weights names {sorted(unknown)}, which are not in '
                             f'distill_losses {sorted(self.distill_losses)}')
        self.loss_weights.update({k: float(v) for k, v in (loss_weights or {}).items()})
        self._prepare_losses()
        self.last_teacher_logits: Optional[Tensor] = None
        self.last_gt_labels: Optional[Tensor] = None

    def _load_teacher(self, filename: str) -> None:
        try:
            load_checkpoint_checked(self.teacher, filename, map_location='cpu', complete=True)
        except FileNotFoundError as e:
            raise FileNotFoundError(f'SingleTeacherDistill: teacher_ckpt not found: {filename} ({e})') from e
        except CheckpointMismatchError as e:
            raise CheckpointMismatchError(
                f'SingleTeacherDistill: teacher_ckpt {filename} does not fit the teacher '
                f'({type(self.teacher).__name__}, teacher.head.num_classes={self.num_classes}): {e}') from e
        self.teacher._is_init = True  # init_weights must not overwrite the loaded weights

    def _teacher_classifier(self) -> Optional[nn.Linear]:
        linears = [m for m in self.teacher.head.modules()
                   if isinstance(m, nn.Linear) and m.out_features == self.num_classes]
        return linears[-1] if linears else None

    def _prepare_losses(self) -> None:
        c = self.num_classes
        for loss in self.distill_losses.values():
            if hasattr(loss, 'set_class_prior') and getattr(loss, 'class_prior', None) is None:
                loss.set_class_prior(torch.full((c, c), 1.0 / c))
            if hasattr(loss, 'set_classifier') and getattr(loss, 'cost_matrix', 0) is None:
                fc = self._teacher_classifier()
                if fc is not None:
                    loss.set_classifier(fc.weight)

    @property
    def student(self) -> nn.Module:
        """nn.Module: the student (``architecture``)."""
        return self.architecture

    def train(self, mode: bool = True) -> 'SingleTeacherDistill':
        """Set train mode; a frozen teacher stays in eval mode (BatchNorm statistics, dropout).

        Args:
            mode (bool): train (True) or eval (False). Defaults to True.

        Returns:
            SingleTeacherDistill: self.
        """
        super().train(mode)
        if not self.teacher_trainable:
            self.teacher.eval()
        return self

    @staticmethod
    def _head_loss_and_logits(model: nn.Module, feats, data_samples) -> tuple:
        """``model.head.loss(feats, data_samples)`` and the logits its ``head(...)`` call produced."""
        caught: List[Tensor] = []

        def catch(module, args, output):
            if isinstance(output, Tensor):
                caught.append(output)

        handle = model.head.register_forward_hook(catch)
        try:
            losses = model.head.loss(feats, data_samples)
        finally:
            handle.remove()
        n = len(data_samples)
        logits = next((t for t in reversed(caught) if t.dim() == 2 and t.size(0) == n), None)
        if logits is None:
            logits = model.head(feats)
        return losses, logits

    def _teacher_logits(self, inputs: Tensor) -> Tensor:
        with torch.set_grad_enabled(self.teacher_trainable and torch.is_grad_enabled()):
            return self.teacher.head(self.teacher.extract_feat(inputs))

    def loss(self, inputs: Tensor, data_samples: Sequence[BaseDataElement]) -> Dict[str, Tensor]:
        """The student's losses (``student.*``), the distillation losses (``distill.*``) and, for a trainable
        teacher, the teacher's (``teacher.*``).

        Args:
            inputs (Tensor): the preprocessed images (N, 3, H, W).
            data_samples (Sequence[BaseDataElement]): one per image, with ``gt_label``.

        Returns:
            dict[str, Tensor]: the losses (and whatever else the heads log).

        Raises:
            ValueError: NaN or inf teacher logits, or a data sample without a single ``gt_label`` when a
                distillation loss (or the class-prior hook) needs labels.
        """
        feats = self.architecture.extract_feat(inputs)
        student_losses, logits_s = self._head_loss_and_logits(self.architecture, feats, data_samples)
        losses = {}
        for key, value in student_losses.items():
            if 'loss' in key and self.student_loss_weight != 1.0:
                value = ([v * self.student_loss_weight for v in value] if isinstance(value, (list, tuple))
                         else value * self.student_loss_weight)
            losses[f'student.{key}'] = value
        if self.teacher_trainable:
            feats_t = self.teacher.extract_feat(inputs)
            teacher_losses, logits_t = self._head_loss_and_logits(self.teacher, feats_t, data_samples)
            losses.update({f'teacher.{k}': v for k, v in teacher_losses.items()})
        else:
            logits_t = self._teacher_logits(inputs)
        check_finite(logits_t, 'SingleTeacherDistill', 'values of the teacher logits (teacher.head output)')
        needs_labels = any(_takes(loss, 'gt_labels') or hasattr(loss, 'accumulate_class_prior')
                           for loss in self.distill_losses.values())
        labels = gt_labels_of(data_samples).to(logits_s.device) if needs_labels else None
        for name, loss in self.distill_losses.items():
            kwargs = {}
            if _takes(loss, 'gt_labels'):
                kwargs['gt_labels'] = labels
            value = loss(logits_s, logits_t, **kwargs)
            key = name if name.startswith('loss') else f'loss_{name}'
            losses[f'distill.{key}'] = value * self.loss_weights[name]
        if self.training:
            self.last_teacher_logits = logits_t.detach()
            self.last_gt_labels = labels
        return losses

    def predict(self, inputs: Tensor, data_samples: Optional[Sequence[BaseDataElement]] = None) -> list:
        """The student's predictions (its own ``forward(mode='predict')``).

        Args:
            inputs (Tensor): the preprocessed images.
            data_samples (Sequence[BaseDataElement], optional): the data samples. Defaults to None.

        Returns:
            list: the student's data samples with ``pred_score``/``pred_label``.
        """
        return self.architecture(inputs, data_samples, mode='predict')

    def forward(self, inputs: Tensor, data_samples: Optional[Sequence[BaseDataElement]] = None,
                mode: str = 'tensor') -> Union[Dict[str, Tensor], list, Tensor, tuple]:
        """``'loss'``: :meth:`loss`; ``'predict'``: :meth:`predict`; ``'tensor'``: the student's ``'tensor'``.

        Args:
            inputs (Tensor): the preprocessed images.
            data_samples (Sequence[BaseDataElement], optional): the data samples. Defaults to None.
            mode (str): ``'loss'``, ``'predict'`` or ``'tensor'``. Defaults to ``'tensor'``.

        Returns:
            dict | list | Tensor | tuple: as the mode says.

        Raises:
            RuntimeError: an unknown ``mode``.
        """
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.architecture(inputs, data_samples, mode='tensor')
        raise RuntimeError(f'SingleTeacherDistill: invalid mode {mode!r}; only "loss", "predict" and "tensor"')
