# Runtime for the segmentation modules: mmseg's visualizer instead of the rotated-box one.
_base_ = './default_runtime.py'
default_hooks = dict(visualization=dict(_delete_=True, type='mmseg.SegVisualizationHook'),
                     logger=dict(interval=20), checkpoint=dict(by_epoch=False, interval=200, max_keep_ckpts=2))
visualizer = dict(_delete_=True, type='mmseg.SegLocalVisualizer',
                  vis_backends=[dict(type='LocalVisBackend')], name='visualizer')
log_processor = dict(by_epoch=False)
