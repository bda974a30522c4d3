import os.path as osp
import re

import pytest
from mmengine.config import Config

from visiondiv.registry import DATASETS, METRICS, MODELS, TASK_UTILS
from visiondiv.utils import ConfigCheckError
from visiondiv.utils.config_check import check_config
from tests.script_loader import ROOT


def make_cfg(tmp_path, **extra):
    cfg = dict(
        model=dict(type='mmdet.RetinaNet', bbox_head=dict(
            type='RotatedRetinaHead', num_classes=3, in_channels=8,
            loss_bbox=dict(type='GDLoss', loss_type='kld'),
            test_cfg=dict(nms=dict(type='nms_rotated', iou_threshold=0.1)))),
        val_evaluator=dict(type='DOTAMetric'),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        norm=dict(type='BN'),
    )
    cfg.update(extra)
    path = tmp_path / 'cfg.py'
    path.write_text('\n'.join(f'{k} = {v!r}' for k, v in cfg.items()))
    return Config.fromfile(str(path)), str(path)


def test_valid_config_passes(tmp_path):
    cfg, _ = make_cfg(tmp_path)
    check_config(cfg)


def test_unknown_type_names_key_and_file(tmp_path):
    cfg, path = make_cfg(tmp_path)
    cfg.model.bbox_head.loss_bbox.type = 'KLDLos'
    with pytest.raises(ConfigCheckError) as err:
        check_config(cfg)
    msg = str(err.value)
    assert path in msg and "model.bbox_head.loss_bbox.type" in msg and 'KLDLoss' in msg


def test_missing_files_named(tmp_path):
    cfg, path = make_cfg(tmp_path, load_from=str(tmp_path / 'nope.pth'))
    with pytest.raises(ConfigCheckError, match="'load_from' file not found"):
        check_config(cfg)
    (tmp_path / 'root').mkdir()
    cfg, _ = make_cfg(tmp_path, train_dataloader=dict(dataset=dict(
        type='DOTADataset' if 'DOTADataset' in DATASETS else 'CocoDataset',
        data_root=str(tmp_path / 'root'), ann_file='train/annfiles/')))
    with pytest.raises(ConfigCheckError, match=r"'train_dataloader\.dataset\.ann_file' not found"):
        check_config(cfg, sections=('train_dataloader',))


def test_registry_aliases_and_own_modules():
    assert MODELS.scope == 'visiondiv' and MODELS.parent.parent is None
    assert MODELS.get('GDLoss') is MODELS.get('KLDLoss')
    assert METRICS.get('DOTAMetric') is not None
    assert TASK_UTILS.get('RBboxOverlaps2D') is not None


def test_unprefixed_class_of_another_library_names_its_prefix(tmp_path):
    cfg, path = make_cfg(tmp_path)
    cfg.model.type = 'RetinaNet'
    with pytest.raises(ConfigCheckError) as err:
        check_config(cfg)
    msg = str(err.value)
    assert path in msg and "'model.type'" in msg and "write 'mmdet.RetinaNet'" in msg
    cfg.model.type = 'mmdet.RetinaNet'
    cfg.model.bbox_head.loss_cls = dict(type='CrossEntropyLoss')
    with pytest.raises(ConfigCheckError, match="write 'mmdet.CrossEntropyLoss' or 'mmseg.CrossEntropyLoss'"):
        check_config(cfg)


def test_scope_key_switches_the_subtree(tmp_path):
    """mmengine builds a dict with ``_scope_`` and its subtree in that scope: the check follows it."""
    cfg, _ = make_cfg(tmp_path)
    cfg.model.bbox_head.loss_cls = dict(type='CrossEntropyLoss', _scope_='mmseg')
    check_config(cfg)
    cfg.model.bbox_head.loss_cls = dict(type='GDLoss', _scope_='mmseg')
    with pytest.raises(ConfigCheckError, match="under the 'mmseg' scope"):
        check_config(cfg)


def test_albumentations_configs_inside_slice_albu_are_not_registry_types(tmp_path):
    """SliceAlbu builds its ``transforms`` itself (albumentations names); a typo in SliceAlbu's own type is
    still named, and registry types outside NON_REGISTRY_ARGS are still checked."""
    aug = dict(type='SliceAlbu', transforms=[dict(type='Affine', rotate=(-15, 15)),
                                             dict(type='OneOf', transforms=[dict(type='GridDistortion')])])
    cfg, _ = make_cfg(tmp_path, train_pipeline=[aug])
    check_config(cfg)
    cfg.train_pipeline[0].type = 'SliceAlbus'
    with pytest.raises(ConfigCheckError, match=r"train_pipeline\[0\]\.type"):
        check_config(cfg)


def test_misspelt_argument_names_the_key_and_suggests_from_the_signature(tmp_path):
    cfg, path = make_cfg(tmp_path)
    cfg.model.bbox_head.loss_bbox.tua = 1.0                    # GDLoss's own __init__ (tau)
    with pytest.raises(ConfigCheckError) as err:
        check_config(cfg)
    assert str(err.value) == (f"{path}: 'model.bbox_head.loss_bbox.tua' is not an argument of GDLoss "
                              "(visiondiv.models.losses.gaussian_dist_loss). Did you mean "
                              "'model.bbox_head.loss_bbox.tau'?")
    del cfg.model.bbox_head.loss_bbox['tua']
    # RotatedRetinaHead(**kwargs) -> mmdet RetinaHead(**kwargs) -> AnchorHead: feat_channels is AnchorHead's
    cfg.model.bbox_head.feat_chanels = 8
    with pytest.raises(ConfigCheckError, match=r"'model\.bbox_head\.feat_chanels' is not an argument of "
                                               r"RotatedRetinaHead .*Did you mean 'model\.bbox_head\.feat_channels'"):
        check_config(cfg)
    del cfg.model.bbox_head['feat_chanels']
    cfg.model.bbox_head.zzz = 8                                # nothing close: the arguments are listed
    with pytest.raises(ConfigCheckError, match=r'RotatedRetinaHead takes: anchor_generator, bbox_coder, .*'
                                               r'feat_channels, .*loss_bbox_type'):
        check_config(cfg)


def test_arguments_of_the_bases_and_of_the_builders_are_accepted(tmp_path):
    from mmengine.registry import HOOKS

    from visiondiv.utils.config_check import accepted_arguments
    cfg, _ = make_cfg(tmp_path, norm=dict(type='BN', requires_grad=True),            # mmcv's build_norm_layer
                      init=dict(type='Normal', layer='Conv2d', std=0.01,              # BaseModule's override
                                override=dict(type='Normal', name='retina_cls', std=0.01, bias_prob=0.01)),
                      param_scheduler=[dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=2,
                                            convert_to_iter_based=True)],
                      custom_hooks=[dict(type='EMAHook', momentum=0.0002, priority=49)])
    cfg.model.bbox_head.update(feat_channels=8, stacked_convs=2, init_cfg=None)     # RetinaHead's, AnchorHead's
    cfg.optim_wrapper.update(type='OptimWrapper', paramwise_cfg=dict(norm_decay_mult=0), clip_grad=None)
    check_config(cfg)
    # **kwargs handed on to super().__init__ follow the bases; used otherwise, nothing can be said
    assert {'num_classes', 'feat_channels', 'loss_bbox_type'} <= accepted_arguments(MODELS.get('RotatedRetinaHead'))
    assert accepted_arguments(HOOKS.get('EMAHook')) is None


def test_evaluating_a_dota_set_without_labels_is_refused(tmp_path):
    (tmp_path / 'test' / 'images').mkdir(parents=True)
    loader = dict(dataset=dict(type='DOTADataset', data_root=str(tmp_path), ann_file='',
                               data_prefix=dict(img_path='test/images/')))
    cfg, path = make_cfg(tmp_path, test_dataloader=loader, test_evaluator=[dict(type='DOTAMetric')])
    with pytest.raises(ConfigCheckError) as err:
        check_config(cfg, sections=('test_dataloader',))
    msg = str(err.value)
    assert msg.startswith(f"{path}: test_dataloader.dataset.ann_file is ''")
    assert 'test_evaluator[0].format_only=True with test_evaluator[0].outfile_prefix=DIR' in msg
    check_config(cfg)                                                   # the test split is not run
    check_config(cfg, sections=('test_dataloader',), evaluated=())     # run, not evaluated (benchmark)
    cfg.test_evaluator[0].update(format_only=True, outfile_prefix=str(tmp_path / 'out'))
    check_config(cfg, sections=('test_dataloader',))                    # writes the submission: fine


TWO_STAGE = {
    'oriented': osp.join(ROOT, 'configs/oriented_rcnn/oriented-rcnn-le90_r18-tiny_fpn_16e_toy-dota.py'),
    'faster': osp.join(ROOT, 'configs/rotated_faster_rcnn/rotated-faster-rcnn-le90_r18-tiny_fpn_16e_toy-dota.py'),
}


@pytest.mark.parametrize('which', sorted(TWO_STAGE))
def test_two_stage_configs_pass(which):
    check_config(Config.fromfile(TWO_STAGE[which]))


@pytest.mark.parametrize('rpn', ['RotatedRPNHead', 'mmdet.RPNHead'])
def test_rotated_extractor_behind_an_hbox_rpn_is_refused(rpn):
    """Rotated Faster R-CNN's RPN (ours, or mmdet's that mmrotate's file names) proposes hboxes: a
    RotatedSingleRoIExtractor behind it is named."""
    cfg = Config.fromfile(TWO_STAGE['faster'])
    cfg.model.rpn_head.type = rpn
    cfg.model.roi_head.bbox_roi_extractor = dict(
        type='RotatedSingleRoIExtractor', out_channels=64, featmap_strides=[8, 16, 32],
        roi_layer=dict(type='RoIAlignRotated', out_size=7, sample_num=2, clockwise=True))
    with pytest.raises(ConfigCheckError, match=r"'model\.roi_head\.bbox_roi_extractor' \(RotatedSingleRoIExtractor\) "
                                               rf"pools rboxes but 'model\.rpn_head' \({re.escape(rpn)}\) proposes "
                                               r"hboxes"):
        check_config(cfg)


def test_hbox_extractor_behind_the_oriented_rpn_is_refused():
    cfg = Config.fromfile(TWO_STAGE['oriented'])
    cfg.model.roi_head.bbox_roi_extractor = dict(
        type='mmdet.SingleRoIExtractor', out_channels=64, featmap_strides=[8, 16, 32],
        roi_layer=dict(type='RoIAlign', output_size=7, sampling_ratio=0))
    with pytest.raises(ConfigCheckError, match=r"'model\.roi_head\.bbox_roi_extractor' \(mmdet\.SingleRoIExtractor\) "
                                               r"pools hboxes but 'model\.rpn_head' \(OrientedRPNHead\) proposes "
                                               r"rboxes"):
        check_config(cfg)


def test_roi_layer_must_match_the_extractor_and_be_an_mmcv_op():
    cfg = Config.fromfile(TWO_STAGE['oriented'])
    cfg.model.roi_head.bbox_roi_extractor.roi_layer = dict(type='RoIAlign', output_size=7, sampling_ratio=0)
    with pytest.raises(ConfigCheckError, match=r"'model\.roi_head\.bbox_roi_extractor\.roi_layer' is RoIAlign "
                                               r"\(it pools hboxes\) but RotatedSingleRoIExtractor extracts rboxes"):
        check_config(cfg)
    # the model build refuses it too, naming roi_layer
    with pytest.raises(ValueError, match=r"roi_layer\.type='RoIAlign'"):
        MODELS.build(cfg.model)
    cfg.model.roi_head.bbox_roi_extractor.roi_layer = dict(type='RoIAlignRotatd', out_size=7)
    with pytest.raises(ConfigCheckError, match=r"'model\.roi_head\.bbox_roi_extractor\.roi_layer\.type' names "
                                               r"'RoIAlignRotatd', which is not an op of mmcv\.ops"):
        check_config(cfg)
    cfg = Config.fromfile(TWO_STAGE['faster'])
    cfg.model.roi_head.bbox_roi_extractor.roi_layer = dict(type='RoIAlignRotated', out_size=7, sample_num=2)
    with pytest.raises(ConfigCheckError, match='RoIAlignRotated \\(it pools rboxes\\) but mmdet.SingleRoIExtractor'):
        check_config(cfg)
