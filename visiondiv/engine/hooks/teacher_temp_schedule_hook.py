"""SimGCD's teacher-temperature schedule for the cross-view self-distillation loss, as a hook."""
import numbers
from typing import Union

import numpy as np
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import IterBasedTrainLoop

from visiondiv.registry import HOOKS
from visiondiv.utils.validation import check_positive


def _check_count(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f'TeacherTempScheduleHook: {name} must be an integer >= 0, got {value!r}')
    return int(value)


def teacher_temp_at(epoch: int, warmup_teacher_temp: float = 0.07, teacher_temp: float = 0.04,
                    warmup_epochs: int = 30) -> float:
    """The teacher temperature of (0-based) ``epoch``, exactly as SimGCD's ``DistillLoss``.

    ``np.linspace(warmup_teacher_temp, teacher_temp, warmup_epochs)[epoch]`` while ``epoch < warmup_epochs``,
    ``teacher_temp`` after. The linspace has ``warmup_epochs`` points, so epoch ``warmup_epochs - 1``
    already has the final value (with ``warmup_epochs=1`` epoch 0 keeps the warm-up value);
    ``warmup_epochs=0`` gives a constant ``teacher_temp``.

    Args:
        epoch (int): the 0-based epoch, >= 0.
        warmup_teacher_temp (float): temperature of epoch 0, > 0 (SimGCD: 0.07). Defaults to 0.07.
        teacher_temp (float): final temperature, > 0 (SimGCD: 0.04). Defaults to 0.04.
        warmup_epochs (int): number of points of the linear warm-up, >= 0 (SimGCD: 30). Defaults to 30.

    Returns:
        float: the teacher temperature of ``epoch``.

    Raises:
        ValueError: a negative or non-integer ``epoch`` / ``warmup_epochs``, a temperature that is not a
            finite number > 0; the message names the argument.
    """
    epoch = _check_count(epoch, 'epoch')
    warmup_epochs = _check_count(warmup_epochs, 'warmup_epochs')
    start = check_positive(warmup_teacher_temp, 'warmup_teacher_temp', 'TeacherTempScheduleHook')
    final = check_positive(teacher_temp, 'teacher_temp', 'TeacherTempScheduleHook')
    if epoch < warmup_epochs:
        return float(np.linspace(start, final, warmup_epochs)[epoch])
    return final


@HOOKS.register_module()
class TeacherTempScheduleHook(Hook):
    """Set ``model.<loss_attr>.teacher_temp`` to :func:`teacher_temp_at` of ``runner.epoch`` before each train epoch.

    The value is also written to the message hub as ``train/teacher_temp``, so the logger prints it
    (as ``teacher_temp``) with each training log line. The epoch comes from ``runner.epoch``, which
    mmengine restores on resume, so a resumed run continues the schedule. The schedule is per epoch:
    an iteration-based train loop is refused (the temperature would never move past epoch 0).

    Args:
        warmup_teacher_temp (float): temperature of epoch 0 (SimGCD: 0.07). Defaults to 0.07.
        teacher_temp (float): final temperature (SimGCD: 0.04). Defaults to 0.04.
        warmup_epochs (int): number of points of the linear warm-up (SimGCD: 30); 0 for a constant.
            Defaults to 30.
        loss_attr (str): attribute path of the loss module on the (unwrapped) model, dots allowed.
            Defaults to ``'loss_cluster'``.
        priority (int | str): hook priority. Defaults to ``'NORMAL'``.

    Raises:
        ValueError: bad schedule arguments (named).
        AttributeError: a model without ``loss_attr`` or a loss without ``teacher_temp`` (named).
    """

    def __init__(self, warmup_teacher_temp: float = 0.07, teacher_temp: float = 0.04, warmup_epochs: int = 30,
                 loss_attr: str = 'loss_cluster', priority: Union[int, str] = 'NORMAL') -> None:
        teacher_temp_at(0, warmup_teacher_temp, teacher_temp, warmup_epochs)     # validates the arguments
        if not isinstance(loss_attr, str) or not loss_attr:
            raise ValueError(f'TeacherTempScheduleHook: loss_attr must be a non-empty str, got {loss_attr!r}')
        self.warmup_teacher_temp, self.teacher_temp = warmup_teacher_temp, teacher_temp
        self.warmup_epochs, self.loss_attr, self.priority = warmup_epochs, loss_attr, priority

    def _loss(self, runner) -> object:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        obj = model
        for i, part in enumerate(self.loss_attr.split('.')):
            if not hasattr(obj, part):
                where = '.'.join(['model'] + self.loss_attr.split('.')[:i])
                raise AttributeError(f'TeacherTempScheduleHook: {where} ({type(obj).__name__}) has no attribute '
                                     f'{part!r} (loss_attr={self.loss_attr!r})')
            obj = getattr(obj, part)
        if not hasattr(obj, 'teacher_temp'):
            raise AttributeError(f'TeacherTempScheduleHook: model.{self.loss_attr} ({type(obj).__name__}) has no '
                                 "attribute 'teacher_temp' to schedule")
        return obj

    def before_train(self, runner) -> None:
        """Fail before the first iteration: a missing loss attribute or an iteration-based loop."""
        self._loss(runner)
        if isinstance(getattr(runner, 'train_loop', None), IterBasedTrainLoop):
            raise ValueError('TeacherTempScheduleHook: the teacher temperature is scheduled per epoch, but the '
                             'train loop is an IterBasedTrainLoop; use an epoch-based train_cfg')

    def before_train_epoch(self, runner) -> None:
        """Set and log the temperature of ``runner.epoch``."""
        value = teacher_temp_at(runner.epoch, self.warmup_teacher_temp, self.teacher_temp, self.warmup_epochs)
        self._loss(runner).teacher_temp = value
        runner.message_hub.update_scalar('train/teacher_temp', value)
