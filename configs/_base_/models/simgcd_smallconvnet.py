# SimGCD with a small CNN trained from scratch in place of the DINO ViT, for the embedded 8x8 / 28x28 grey
# digit benchmarks on CPU. The losses and their weights are the paper's (lambda 0.35, me-max weight 1,
# teacher temperature 0.07 -> 0.04 by TeacherTempScheduleHook). Inputs scaled to [0, 1].
model = dict(
    type='SimGCD', num_known_classes=5, sup_weight=0.35, cls_temp=0.1,
    data_preprocessor=dict(type='GCDDataPreprocessor', mean=[0.0], std=[255.0]),
    backbone=dict(type='SmallConvNet', in_channels=1, widths=(16, 32, 64)),
    head=dict(type='DINOHead', in_channels=64, num_classes=10, num_layers=3, hidden_channels=512,
              bottleneck_channels=128),
    loss_cluster=dict(type='CrossViewDistillLoss', student_temp=0.1, teacher_temp=0.07),
    loss_me_max=dict(type='MeanEntropyLoss', temperature=0.1, loss_weight=1.0),
    loss_contrastive=dict(type='InfoNCELoss', temperature=1.0),
    loss_supcon=dict(type='SupConLoss', temperature=0.07, base_temperature=0.07))
