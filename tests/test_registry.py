"""visiondiv's registry nodes are siblings of mmdet's and mmseg's, and names never cross libraries silently."""
import mmdet.registry as mmdet_registry
import mmengine.registry as mmengine_registry
import mmseg.registry as mmseg_registry
import pytest
from mmdet.models.losses import CrossEntropyLoss as MMDetCrossEntropyLoss
from mmengine.registry import DefaultScope
from mmseg.models.losses import CrossEntropyLoss as MMSegCrossEntropyLoss

import visiondiv.registry as visiondiv_registry
from visiondiv.registry import MODELS, TASK_UTILS
from visiondiv.utils.config_check import resolve, scope_node, scopes_registering

NODE_NAMES = [name for name, value in vars(visiondiv_registry).items()
              if isinstance(value, mmengine_registry.Registry) and not name.startswith('MMENGINE_')]


def fcn_head(**kwargs) -> dict:
    return dict(type='mmseg.FCNHead', in_channels=4, channels=4, num_convs=1, num_classes=3, **kwargs)


@pytest.mark.parametrize('name', NODE_NAMES)
def test_nodes_are_children_of_mmengine_root(name):
    node = getattr(visiondiv_registry, name)
    assert node.scope == 'visiondiv'
    assert node.parent is getattr(mmengine_registry, name), f'{name} must hang from mmengine root, as mmrotate'
    assert node.parent.parent is None
    assert node.parent._search_child('visiondiv') is node


def test_every_mmengine_root_has_a_visiondiv_node():
    roots = {name for name, v in vars(mmengine_registry).items()
             if isinstance(v, mmengine_registry.Registry) and v.parent is None}
    assert roots <= set(NODE_NAMES)


def test_unprefixed_names_do_not_reach_sibling_libraries():
    # mmdet and mmseg both register a CrossEntropyLoss with different arguments
    assert MODELS.get('CrossEntropyLoss') is None
    assert MODELS.get('mmdet.CrossEntropyLoss') is MMDetCrossEntropyLoss
    assert MODELS.get('mmseg.CrossEntropyLoss') is MMSegCrossEntropyLoss
    assert TASK_UTILS.get('MaxIoUAssigner') is None
    assert TASK_UTILS.get('RBboxOverlaps2D') is not None  # visiondiv's own
    assert MODELS.get('ConvModule') is not None  # mmcv's, in mmengine's root


def test_mmseg_class_default_is_never_mmdets_class():
    """The reproduced defect: mmseg.FCNHead's unprefixed default loss became mmdet's CrossEntropyLoss."""
    assert DefaultScope.get_current_instance().scope_name == 'visiondiv'
    with pytest.raises(KeyError, match='CrossEntropyLoss'):
        MODELS.build(fcn_head())
    # named with its library, it is mmseg's
    head = MODELS.build(fcn_head(loss_decode=dict(type='mmseg.CrossEntropyLoss')))
    assert type(head.loss_decode) is MMSegCrossEntropyLoss
    # or the subtree is built in mmseg's scope, where the default is mmseg's own
    head = MODELS.build(fcn_head(_scope_='mmseg'))
    assert type(head.loss_decode) is MMSegCrossEntropyLoss


def test_policy_helpers_follow_mmengine():
    root = mmengine_registry.MODELS
    assert scope_node(root, 'visiondiv') is MODELS
    assert scope_node(root, 'mmdet') is mmdet_registry.MODELS
    assert scope_node(root, 'mmseg') is mmseg_registry.MODELS
    assert resolve(root, 'CrossEntropyLoss', 'visiondiv') is None
    assert resolve(root, 'CrossEntropyLoss', 'mmseg') is MMSegCrossEntropyLoss
    assert resolve(root, 'mmdet.CrossEntropyLoss', 'visiondiv') is MMDetCrossEntropyLoss
    assert resolve(root, 'nolib.CrossEntropyLoss', 'visiondiv') is None
    assert scopes_registering(root, 'CrossEntropyLoss') == ['mmdet', 'mmseg']
    assert scopes_registering(root, 'GDLoss') == ['visiondiv']
