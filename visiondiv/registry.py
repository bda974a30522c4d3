"""visiondiv's registry nodes and the one lookup policy that configs follow.

Every node is a child of mmengine's root registry of its kind, a sibling of
mmdet's and mmseg's nodes, as in mmrotate, mmyolo and mmseg. The policy is
mmengine's own, written down here because configs, ``check_config`` and the
tests rely on it:

* ``'mmdet.FocalLoss'`` (a scope prefix) resolves in that library's node only;
* an unprefixed name resolves in the node of the current default scope
  (``default_scope`` of the config, ``visiondiv`` for our configs) and then
  in its ancestors, i.e. mmengine's root (mmengine's and mmcv's classes:
  hooks, loops, optimizers, ``ConvModule``, ``BN``...);
* never in a sibling library: an unprefixed ``'CrossEntropyLoss'`` under the
  ``visiondiv`` scope is an error, not silently mmdet's or mmseg's class.

This also holds for names that another library's class builds with its own
unprefixed defaults (mmseg's ``FCNHead`` builds ``CrossEntropyLoss`` when no
``loss_decode`` is given): name such arguments explicitly with their prefix,
or build that subtree in the other library's scope with ``_scope_='mmseg'``.
"""
from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import EVALUATOR as MMENGINE_EVALUATOR
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import INFERENCERS as MMENGINE_INFERENCERS
from mmengine.registry import LOG_PROCESSORS as MMENGINE_LOG_PROCESSORS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import OPTIMIZERS as MMENGINE_OPTIMIZERS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import RUNNER_CONSTRUCTORS as MMENGINE_RUNNER_CONSTRUCTORS
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from mmengine.registry import STRATEGIES as MMENGINE_STRATEGIES
from mmengine.registry import TASK_UTILS as MMENGINE_TASK_UTILS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import VISBACKENDS as MMENGINE_VISBACKENDS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import WEIGHT_INITIALIZERS as MMENGINE_WEIGHT_INITIALIZERS
from mmengine.registry import Registry

#: the scope of visiondiv's nodes and of its configs
SCOPE = 'visiondiv'

# runners, loops and hooks
RUNNERS = Registry('runner', parent=MMENGINE_RUNNERS, locations=['visiondiv.engine'])
RUNNER_CONSTRUCTORS = Registry('runner constructor', parent=MMENGINE_RUNNER_CONSTRUCTORS,
                               locations=['visiondiv.engine'])
LOOPS = Registry('loop', parent=MMENGINE_LOOPS, locations=['visiondiv.engine'])
# training strategies of mmengine's FlexibleRunner (DeepSpeed, FSDP)
STRATEGIES = Registry('strategy', parent=MMENGINE_STRATEGIES, locations=['visiondiv.engine'])
HOOKS = Registry('hook', parent=MMENGINE_HOOKS, locations=['visiondiv.engine'])

# data
DATASETS = Registry('dataset', parent=MMENGINE_DATASETS, locations=['visiondiv.datasets'])
DATA_SAMPLERS = Registry('data sampler', parent=MMENGINE_DATA_SAMPLERS, locations=['visiondiv.datasets'])
TRANSFORMS = Registry('transform', parent=MMENGINE_TRANSFORMS, locations=['visiondiv.datasets.transforms'])

# models
MODELS = Registry('model', parent=MMENGINE_MODELS, locations=['visiondiv.models'])
MODEL_WRAPPERS = Registry('model_wrapper', parent=MMENGINE_MODEL_WRAPPERS, locations=['visiondiv.models'])
WEIGHT_INITIALIZERS = Registry('weight initializer', parent=MMENGINE_WEIGHT_INITIALIZERS,
                               locations=['visiondiv.models'])
# anchor generators, box coders, assigners, IoU calculators
TASK_UTILS = Registry('task util', parent=MMENGINE_TASK_UTILS, locations=['visiondiv.models.task_modules'])

# optimisation
OPTIMIZERS = Registry('optimizer', parent=MMENGINE_OPTIMIZERS, locations=['visiondiv.engine'])
OPTIM_WRAPPERS = Registry('optim_wrapper', parent=MMENGINE_OPTIM_WRAPPERS,
                          locations=['visiondiv.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = Registry('optimizer wrapper constructor', parent=MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS,
                                      locations=['visiondiv.engine'])
PARAM_SCHEDULERS = Registry('parameter scheduler', parent=MMENGINE_PARAM_SCHEDULERS,
                            locations=['visiondiv.engine'])

# evaluation, visualisation, logging, inference
METRICS = Registry('metric', parent=MMENGINE_METRICS, locations=['visiondiv.evaluation'])
EVALUATOR = Registry('evaluator', parent=MMENGINE_EVALUATOR, locations=['visiondiv.evaluation'])
VISUALIZERS = Registry('visualizer', parent=MMENGINE_VISUALIZERS, locations=['visiondiv.visualization'])
VISBACKENDS = Registry('vis_backend', parent=MMENGINE_VISBACKENDS, locations=['visiondiv.visualization'])
LOG_PROCESSORS = Registry('log_processor', parent=MMENGINE_LOG_PROCESSORS, locations=['visiondiv.engine'])
INFERENCERS = Registry('inferencer', parent=MMENGINE_INFERENCERS)
# functions such as collate_fn; load_translator, which CTToPseudoMR configs load their generator with
FUNCTIONS = Registry('function', parent=MMENGINE_FUNCTIONS, locations=['visiondiv.datasets', 'visiondiv.apis'])
