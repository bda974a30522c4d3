# The synthetic unpaired CT / T2w-MR thorax set (tools/data/toy_ct_mr.py), NIfTI with spacing.
# Translation: CT slices (HU, windowed to [0, 1]) with their tumour masks, paired at random with
# unlabelled MR slices (per-volume percentile normalisation to [0, 1]).
data_root = 'data/toy_ct_mr/'
ct_window = (-1000, 400)
translation_pipeline = [dict(type='PackTranslationInputs', keys=('img_ct', 'img_mr', 'mask_ct'))]
translation_train = dict(
    type='UnpairedSliceDataset', data_root=data_root, pipeline=translation_pipeline,
    domain_a=dict(name='ct', img_dir='ct/train/images', label_dir='ct/train/labels', normalize='window',
                  window=ct_window),
    domain_b=dict(name='mr', img_dir='mr/unlabelled/images', label_dir=None, normalize='percentile'))
# validation of the translator: pseudo-MR of 8 CT volumes' slices vs real MR slices (intensity KL)
translation_val = dict(
    type='UnpairedSliceDataset', data_root=data_root, pipeline=translation_pipeline, test_mode=True,
    indices=96,
    domain_a=dict(name='ct', img_dir='ct/train/images', label_dir='ct/train/labels', normalize='window',
                  window=ct_window),
    domain_b=dict(name='mr', img_dir='mr/unlabelled/images', label_dir=None, normalize='percentile'))
