# SingleTeacherDistill for the offline distillation study (benchmarks/kd_study.py): student smallconvnet-w8_mnist.py,
# teacher smallconvnet-w32_mnist.py (spelled out; tests/test_kd_configs.py checks it equals that file's model), the
# teacher's trained weights from teacher_ckpt. checkpoints/smallconvnet-w32_mnist.pth is a PLACEHOLDER: train the
# teacher first (configs/kd/smallconvnet-w32_mnist5k_24e.py, about 30 s on one CPU thread) and pass
# --cfg-options model.teacher_ckpt=<work_dir>/epoch_24.pth (the study does); tools/train.py refuses to start
# without it. The method configs add distill_losses (and student_loss_weight).
_base_ = ['./smallconvnet-w8_mnist.py']
model = dict(
    _delete_=True,
    type='SingleTeacherDistill',
    architecture={{_base_.model}},
    teacher=dict(
        type='ImageClassifier',
        data_preprocessor=dict(type='ClsDataPreprocessor', num_classes=10, mean=[33.3285], std=[78.5655]),
        backbone=dict(type='SmallConvNet', in_channels=1, widths=(32, 64, 128)),
        head=dict(type='LinearClsHead', num_classes=10, in_channels=128,
                  loss=dict(type='mmdet.CrossEntropyLoss', loss_weight=1.0), topk=(1, ))),
    teacher_ckpt='checkpoints/smallconvnet-w32_mnist.pth')
