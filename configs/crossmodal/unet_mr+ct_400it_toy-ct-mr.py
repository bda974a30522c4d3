# Study arm 2: labelled MR + raw labelled CT (per-volume percentile normalisation, no translation).
_base_ = './unet_mr-only_400it_toy-ct-mr.py'
train_dataloader = dict(dataset=dict(_delete_=True, type='ConcatDataset',
                                     datasets=[{{_base_.mr_repeated}}, {{_base_.ct_train}}]))
