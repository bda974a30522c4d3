# SingleTeacherDistill: student resnet18_in1k.py, teacher resnet34_in1k.py (spelled out; tests/test_kd_configs.py
# checks it equals that file's model), the teacher's trained weights from teacher_ckpt.
# checkpoints/resnet34_in1k.pth is a PLACEHOLDER: nothing is downloaded. Train the teacher alone first
# (configs/kd/resnet34_*.py) or convert published weights, put the file there or pass
# --cfg-options model.teacher_ckpt=<file>; tools/train.py refuses to start without it. The method configs add
# distill_losses (and student_loss_weight). The teacher is frozen (eval mode, no gradient); predict and
# tools/test.py run the student; tools/model_converters/distill_to_student.py extracts it for resnet18_in1k.py.
_base_ = ['./resnet18_in1k.py']
model = dict(
    _delete_=True,
    type='SingleTeacherDistill',
    architecture={{_base_.model}},
    teacher=dict(
        backbone=dict(
            depth=34,
            norm_cfg=dict(requires_grad=True, type='BN'),
            norm_eval=False,
            num_stages=4,
            out_indices=(3, ),
            style='pytorch',
            type='mmdet.ResNet',
            zero_init_residual=False),
        data_preprocessor=dict(
            mean=[
                123.675,
                116.28,
                103.53,
            ],
            num_classes=1000,
            std=[
                58.395,
                57.12,
                57.375,
            ],
            to_rgb=True,
            type='ClsDataPreprocessor'),
        head=dict(
            in_channels=512,
            loss=dict(loss_weight=1.0, type='mmdet.CrossEntropyLoss'),
            num_classes=1000,
            topk=(
                1,
                5,
            ),
            type='LinearClsHead'),
        neck=dict(type='GlobalAveragePooling'),
        type='ImageClassifier'),
    teacher_ckpt='checkpoints/resnet34_in1k.pth')
