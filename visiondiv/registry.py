"""visiondiv registries: children (scope ``visiondiv``) of mmdet's, that also see mmseg's.

A registry has one parent in mmengine, so each visiondiv registry is a
child of mmdet's and falls back to mmseg's registry of the same kind for
names it cannot resolve. Configs can thus use mmdet and mmseg modules
(``EncoderDecoder``, ``SegDataPreProcessor``...) without a scope prefix;
``mmseg.X``/``mmdet.X`` still pick a scope explicitly.
"""
from typing import Any, Optional

from mmdet.registry import DATASETS as MMDET_DATASETS
from mmdet.registry import HOOKS as MMDET_HOOKS
from mmdet.registry import METRICS as MMDET_METRICS
from mmdet.registry import MODELS as MMDET_MODELS
from mmdet.registry import RUNNERS as MMDET_RUNNERS
from mmdet.registry import TASK_UTILS as MMDET_TASK_UTILS
from mmdet.registry import TRANSFORMS as MMDET_TRANSFORMS
from mmdet.registry import VISUALIZERS as MMDET_VISUALIZERS
import mmdet.registry as mmdet_registry
from mmengine.registry import Registry


class _FallbackRegistry(Registry):
    """A child registry that, failing its own lookup chain, asks one more registry."""

    def __init__(self, name: str, parent: Registry, fallback_path: Optional[str] = None, **kwargs):
        super().__init__(name, parent=parent, scope='visiondiv', locations=kwargs.pop('locations', None))
        self._fallback_path = fallback_path

    def _fallback(self) -> Optional[Registry]:
        if self._fallback_path is None:
            return None
        module, attr = self._fallback_path.rsplit('.', 1)
        try:
            import importlib
            return getattr(importlib.import_module(module), attr)
        except ImportError:
            return None

    def get(self, key: str) -> Any:
        obj = super().get(key)
        if obj is None and '.' not in key:
            fallback = self._fallback()
            if fallback is not None:
                obj = fallback.get(key)
        return obj


MODELS = _FallbackRegistry('model', MMDET_MODELS, 'mmseg.registry.MODELS',
                           locations=['visiondiv.models'])
DATASETS = _FallbackRegistry('dataset', MMDET_DATASETS, 'mmseg.registry.DATASETS',
                             locations=['visiondiv.datasets'])
TRANSFORMS = _FallbackRegistry('transform', MMDET_TRANSFORMS, 'mmseg.registry.TRANSFORMS',
                               locations=['visiondiv.datasets.transforms'])
METRICS = _FallbackRegistry('metric', MMDET_METRICS, 'mmseg.registry.METRICS',
                            locations=['visiondiv.evaluation'])
TASK_UTILS = _FallbackRegistry('task util', MMDET_TASK_UTILS, 'mmseg.registry.TASK_UTILS',
                               locations=['visiondiv.models.task_modules'])
HOOKS = _FallbackRegistry('hook', MMDET_HOOKS, 'mmseg.registry.HOOKS',
                          locations=['visiondiv.engine.hooks'])
VISUALIZERS = _FallbackRegistry('visualizer', MMDET_VISUALIZERS, 'mmseg.registry.VISUALIZERS',
                                locations=['visiondiv.visualization'])
RUNNERS = Registry('runner', parent=MMDET_RUNNERS, scope='visiondiv', locations=['visiondiv.engine'])

# Plain children of mmdet's remaining registries, so that loops, samplers, optimizers... built under
# the visiondiv scope resolve through mmdet/mmengine without a fallback warning.
def _child(parent: Registry) -> Registry:
    return Registry(parent.name, parent=parent, scope='visiondiv')


RUNNER_CONSTRUCTORS = _child(mmdet_registry.RUNNER_CONSTRUCTORS)
LOOPS = _child(mmdet_registry.LOOPS)
DATA_SAMPLERS = _child(mmdet_registry.DATA_SAMPLERS)
MODEL_WRAPPERS = _child(mmdet_registry.MODEL_WRAPPERS)
WEIGHT_INITIALIZERS = _child(mmdet_registry.WEIGHT_INITIALIZERS)
OPTIMIZERS = _child(mmdet_registry.OPTIMIZERS)
OPTIM_WRAPPERS = _child(mmdet_registry.OPTIM_WRAPPERS)
OPTIM_WRAPPER_CONSTRUCTORS = _child(mmdet_registry.OPTIM_WRAPPER_CONSTRUCTORS)
PARAM_SCHEDULERS = _child(mmdet_registry.PARAM_SCHEDULERS)
EVALUATOR = _child(mmdet_registry.EVALUATOR)
VISBACKENDS = _child(mmdet_registry.VISBACKENDS)
LOG_PROCESSORS = _child(mmdet_registry.LOG_PROCESSORS)
