# Copyright (c) mmieee contributors.
"""The tools that extract features, on a tiny TOP-ReID model (ViT streams
with a 2-camera embedding, TPM + CRM; ``tiny_topreid_files``): every sample's
camera id reaches the model (datasets set ``camid``; the inferencer reads it
from file names or uses ``default_camid``; ONNX takes it as a second
input), a sample without one is an error naming ``camid``, the
missing-modality tool prints the reconstructed table beside the blanked
one, and training stops at once when the ImageNet file is missing."""
import importlib.util
import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from mmieee.apis import MultiModalReIDInferencer, extract_features, init_model
from mmieee.apis.test_features import extract_test_features

REPO = Path(__file__).resolve().parents[2]
MISSING_TOOL = 'tools/analysis_tools/eval_missing_modality.py'


def _tool(path: str):
    spec = importlib.util.spec_from_file_location(
        'mmieee_tool_' + Path(path).stem, REPO / path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def model(tiny_topreid_files):
    return init_model(tiny_topreid_files['cfg'],
                      tiny_topreid_files['checkpoint'])


def test_test_features_carry_each_sample_s_camera(model, tiny_topreid_files):
    """Dataset samples embed their own camera: changing a sample's camid
    changes its feature."""
    feats, _ = extract_test_features(tiny_topreid_files['cfg'],
                                     tiny_topreid_files['checkpoint'])
    assert feats.feats.shape[1] == 48
    assert set(feats.camids.tolist()) == {0, 1}
    paths = [list(p) for p in feats.img_paths[:2]]
    again = extract_features(model, paths, camids=feats.camids[:2].tolist())
    np.testing.assert_allclose(again.feats, feats.feats[:2], rtol=1e-5,
                               atol=1e-5)
    other = extract_features(model, paths,
                             camids=(1 - feats.camids[:2]).tolist())
    assert not np.allclose(other.feats, feats.feats[:2], atol=1e-4)
    with pytest.raises(ValueError, match='data sample 0 has none'):
        extract_features(model, paths)  # no camids, no default
    filled = extract_features(model, paths, default_camid=0)
    assert filled.feats.shape == (2, 48)


def test_inferencer_reads_cameras_from_names_or_uses_the_default(
        tiny_topreid_files):
    root = Path(tiny_topreid_files['root']) / 'test'
    inferencer = MultiModalReIDInferencer(
        tiny_topreid_files['config'], tiny_topreid_files['checkpoint'],
        gallery=str(root), cache_dir=None)
    names = sorted(p.name for p in (root / 'RGB').iterdir())
    name = next(n for n in names if '_cam2_' in n)  # camera 2 -> camid 1
    paths = [str(root / m / name) for m in ('RGB', 'NI', 'TI')]
    (result, ) = inferencer(paths, topk=3)
    assert result['query']['camid'] == 1
    from_paths, _ = inferencer._queries(paths, 1)
    index = [list(p) for p in inferencer.gallery.img_paths].index(paths)
    np.testing.assert_allclose(from_paths[0], inferencer.gallery.feats[index],
                               rtol=1e-5, atol=1e-5)
    # the same sample as arrays has no name: camera default_camid
    import mmcv
    arrays = [mmcv.imread(p, channel_order='rgb') for p in paths]
    (from_arrays, ) = inferencer(arrays, topk=3)
    assert from_arrays['query']['camid'] is None
    feats = {}
    for camid in (0, 1):
        inferencer.default_camid = camid
        feats[camid] = inferencer._queries(arrays, 1)[0][0]
    np.testing.assert_allclose(feats[1], from_paths[0], rtol=1e-5, atol=1e-5)
    assert not np.allclose(feats[0], from_paths[0], atol=1e-4)
    inferencer.default_camid = None
    with pytest.raises(ValueError, match='"camid"'):
        inferencer(arrays, topk=3)
    with pytest.raises(ValueError, match='default_camid=5 is not a camera'):
        MultiModalReIDInferencer(
            tiny_topreid_files['config'], tiny_topreid_files['checkpoint'],
            default_camid=5)


def test_onnx_graph_takes_camera_ids(tiny_topreid_files, tmp_path, capsys):
    pytest.importorskip('onnxruntime', reason='pip install -e .[deploy]')
    import onnx
    tool = _tool('tools/deployment/pytorch2onnx.py')
    out = tmp_path / 'topreid.onnx'
    status = tool.main([
        tiny_topreid_files['config'], tiny_topreid_files['checkpoint'],
        '--out', str(out), '--dynamic-batch', '--verify', '--num-real', '3',
        '--cfg-options', 'model.test_cfg.missing_modalities=[TI]'
    ])
    text = capsys.readouterr().out
    assert status == 0, text
    assert len(re.findall(r'inputs \(batch 3\).*: OK', text)) == 2
    assert 'input uint8 (B, 3, 3, 64, 32), camids int64 (B,), B dynamic' in \
        text
    graph = onnx.load(str(out))
    names = [i.name for i in graph.graph.input]
    assert names == ['inputs', 'camids']
    assert graph.graph.input[1].type.tensor_type.elem_type == \
        onnx.TensorProto.INT64
    props = {p.key: p.value for p in graph.metadata_props}
    assert props['missing_modalities'] == 'TI'
    assert 'camids: int64 (B,)' in props['camids']
    # the graph's camera ids matter
    import onnxruntime as ort
    session = ort.InferenceSession(str(out),
                                   providers=['CPUExecutionProvider'])
    images = np.random.default_rng(0).integers(
        0, 256, (2, 3, 3, 64, 32), dtype=np.uint8)
    a = session.run(None, dict(inputs=images, camids=np.array([0, 0])))[0]
    b = session.run(None, dict(inputs=images, camids=np.array([0, 1])))[0]
    np.testing.assert_allclose(a[0], b[0], rtol=1e-5, atol=1e-6)
    assert not np.allclose(a[1], b[1], atol=1e-4)


def test_graph_without_camera_ids_is_refused_by_name(model):
    from mmieee.apis.onnx_export import FeatureGraph
    images = torch.zeros(1, 3, 3, 64, 32, dtype=torch.uint8)
    with pytest.raises(ValueError, match='"camid"'):
        FeatureGraph(model)(images)
    with pytest.raises(ValueError, match=r'camids \[7\] outside the camera'):
        FeatureGraph(model)(images, torch.tensor([7]))


def test_eval_missing_modality_prints_blanked_and_reconstructed_tables(
        tools, tiny_topreid_files, tmp_path):
    out = tmp_path / 'missing.json'
    proc = tools.run([
        MISSING_TOOL, tiny_topreid_files['config'],
        tiny_topreid_files['checkpoint'], '--work-dir', tmp_path / 'w',
        '--out', out
    ])
    rows = json.loads(out.read_text())
    assert [r['method'] for r in rows] == ['blanked'] * 7 + \
        ['reconstructed'] * 6
    assert rows[7]['missing'] == ['RGB'] and rows[12]['missing'] == [
        'NI', 'TI']
    text = proc.stdout
    assert 'missing images blanked (test_cfg.blank_modalities)' in text
    assert 'reconstructed by the neck (test_cfg.missing_modalities)' in text
    assert 'Scenario 13/13' in text
    # a reconstructed row is the evaluation with test_cfg.missing_modalities
    single = tmp_path / 'single.json'
    tools.run([
        'tools/test.py', tiny_topreid_files['config'],
        tiny_topreid_files['checkpoint'], '--work-dir', tmp_path / 'w2',
        '--out', single, '--cfg-options',
        'model.test_cfg.missing_modalities=[NI,TI]'
    ])
    want = json.loads(single.read_text())
    assert rows[12]['metrics']['reid/mAP'] == pytest.approx(
        want['reid/mAP'])


def test_vis_tools_on_a_vit_model(tiny_topreid_files, tmp_path, capsys):
    """Rank lists and t-SNE work on the features; activation maps are the
    streams' class-token attention; Grad-CAM is refused by name."""
    cfg, ckpt = tiny_topreid_files['config'], tiny_topreid_files['checkpoint']
    files = _tool('tools/visualization/vis_rank_list.py').main(
        [cfg, ckpt, '--out-dir', str(tmp_path / 'ranks'), '--topk', '3',
         '--num-queries', '2'])
    assert len(files) == 2 and len(list((tmp_path / 'ranks').glob(
        '*.png'))) == 2
    _tool('tools/visualization/vis_tsne.py').main(
        [cfg, ckpt, '--out', str(tmp_path / 'tsne.png'), '--perplexity', '2'])
    assert (tmp_path / 'tsne.png').is_file()
    actmap = _tool('tools/visualization/vis_actmap.py')
    files = actmap.main([cfg, ckpt, '--out-dir', str(tmp_path / 'act'),
                         '--num-samples', '2'])
    assert len(files) == 2 and all(Path(f).is_file() for f in files)
    with pytest.raises(SystemExit) as info:
        actmap.main([cfg, ckpt, '--out-dir', str(tmp_path / 'gc'),
                     '--grad-cam'])
    assert info.value.code == 2
    assert 'this model\'s streams are ViTs (ReIDViT)' in \
        capsys.readouterr().err


def test_class_token_attention_maps(model, tiny_topreid_files):
    """The map of a stream is its last layer's class-token attention over
    the (h, w) patches, computed from that layer's input by hand."""
    from mmieee.apis.test_features import build_test_dataset
    from mmieee.visualization import preprocess, stream_activation_maps
    dataset = build_test_dataset(tiny_topreid_files['cfg'])
    inputs, samples = preprocess(model, [dataset[0], dataset[1]])
    maps = stream_activation_maps(model, inputs, samples)
    assert [tuple(m.shape) for m in maps] == [(2, 8, 4)] * 3
    stream = model.backbone.streams[1]
    seen = {}
    stream.layers[-1].attn.register_forward_hook(
        lambda module, args, out: seen.setdefault('x', args[0]))
    with torch.no_grad():
        stream(inputs[:, 1], camids=torch.tensor(
            [s.camid for s in samples]))
    x = seen['x']
    attn = stream.layers[-1].attn
    q, k, _ = attn.qkv(x).reshape(2, 33, 3, 2, 8).permute(2, 0, 3, 1, 4)
    att = (q @ k.transpose(-2, -1) / 8**0.5).softmax(-1)[:, :, 0, 1:]
    torch.testing.assert_close(maps[1], att.mean(1).reshape(2, 8, 4))
    with pytest.raises(ValueError, match='"camid"'):
        stream_activation_maps(model, inputs)


def test_training_stops_before_building_when_the_imagenet_file_is_missing(
        tools, tiny_topreid_files, tmp_path):
    root = tiny_topreid_files['root']
    proc = tools.run([
        'tools/train.py', 'configs/topreid/'
        'topreid_vit-b16_1xb128-120e_rgbnt201.py', '--work-dir', tmp_path,
        '--cfg-options', f'train_dataloader.dataset.data_root={root}',
        f'val_dataloader.dataset.data_root={root}',
        f'test_dataloader.dataset.data_root={root}',
        'model.backbone.init_cfg.checkpoint=no/such/vitb_16_224_21k.pth'
    ], check=False)
    assert proc.returncode == 2
    assert proc.stderr.startswith(
        "Error: model.backbone.init_cfg.checkpoint='no/such/vitb_16_224_21k"
        ".pth': the pretrained weights file does not exist (see "
        'docs/topreid.md, "ImageNet weights")')
    assert not list(Path(tmp_path).glob('*/*.log'))  # nothing was built


def test_get_flops_feeds_a_camera_id(tiny_topreid_files):
    tool = _tool('tools/analysis_tools/get_flops.py')
    result = tool.get_complexity(tiny_topreid_files['cfg'], shape=(64, 32),
                                 show_table=False)
    assert result['input_shape'] == (1, 3, 3, 64, 32)
    assert result['flops'] > 0
    model = init_model(tiny_topreid_files['cfg'])
    assert result['params'] == sum(p.numel() for p in model.parameters())


def test_checkpoint_of_another_camera_count_is_refused_by_name(
        tiny_topreid_files, tmp_path):
    from mmieee.utils import CheckpointMismatchError
    cfg = tiny_topreid_files['cfg'].copy()
    cfg.merge_from_dict({'model.backbone.backbone.num_cameras': 3})
    model = init_model(cfg)
    torch.save({'state_dict': model.state_dict()}, tmp_path / 'three.pth')
    with pytest.raises(CheckpointMismatchError) as info:
        init_model(tiny_topreid_files['cfg'], str(tmp_path / 'three.pth'))
    text = str(info.value)
    assert 'backbone.streams.0.camera_embed' in text
    assert '(3, 1, 16)' in text and '(2, 1, 16)' in text
