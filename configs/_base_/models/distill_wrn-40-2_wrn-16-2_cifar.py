# SingleTeacherDistill: student wrn-16-2_cifar.py, teacher wrn-40-2_cifar.py (spelled out; tests/test_kd_configs.py
# checks it equals that file's model), the teacher's trained weights from teacher_ckpt.
# checkpoints/wrn-40-2_cifar.pth is a PLACEHOLDER: nothing is downloaded. Train the teacher alone first
# (configs/kd/wrn-40-2_*.py) or convert published weights, put the file there or pass
# --cfg-options model.teacher_ckpt=<file>; tools/train.py refuses to start without it. The method configs add
# distill_losses (and student_loss_weight). The teacher is frozen (eval mode, no gradient); predict and
# tools/test.py run the student; tools/model_converters/distill_to_student.py extracts it for wrn-16-2_cifar.py.
_base_ = ['./wrn-16-2_cifar.py']
model = dict(
    _delete_=True,
    type='SingleTeacherDistill',
    architecture={{_base_.model}},
    teacher=dict(
        backbone=dict(depth=40, type='WideResNet', widen_factor=2),
        data_preprocessor=dict(
            mean=[
                129.3105,
                124.1085,
                112.404,
            ],
            num_classes=100,
            std=[
                68.2125,
                65.4075,
                70.4055,
            ],
            to_rgb=False,
            type='ClsDataPreprocessor'),
        head=dict(
            in_channels=128,
            loss=dict(loss_weight=1.0, type='mmdet.CrossEntropyLoss'),
            num_classes=100,
            topk=(
                1,
                5,
            ),
            type='LinearClsHead'),
        neck=dict(type='GlobalAveragePooling'),
        type='ImageClassifier'),
    teacher_ckpt='checkpoints/wrn-40-2_cifar.pth')
