# Copyright (c) mmieee contributors.
"""Every shell command of README.md, docs/*.md and configs/*/README.md is
accounted for (mmieee/testing/doc_commands.py finds them):

* a *synopsis* (placeholders such as ``CONFIG``, optional ``[...]`` parts, an
  inline ``tools/test.py --dump``): the tool exists and its ``--help`` lists
  every option shown;
* a variable assignment: run before the commands of its block;
* a command that needs what a fresh clone lacks (a dataset, a checkpoint,
  a GPU): ``# needs: A, B`` after it in the page, or a ``NEEDS`` entry
  below, which names what the tool checks first (the dataset before a GPU
  or a weights file); the first command of each tool and missing thing
  (any checkpoint file counting as one) runs in a sandbox
  (tests/test_docs/conftest.py) and must fail within 90 s with a message
  naming it, without a traceback;
* ``RUN``: run as written in a sandbox, exit status 0;
* ``TESTED``: an existing test runs the same tool on the same kind of input
  (smaller sizes); the entry names it, and the test file must exist, define
  it and call the tool;
* ``NOT_RUN``: listed with the reason (installers, the whole test suite,
  full trainings and benchmarks of minutes to hours).

``test_every_command_is_accounted_for`` fails on a command that appears in a
page without being covered, and on an entry that no page has any more.
"""
import json
import re
import sys
from pathlib import Path

import pytest

from mmieee.testing.doc_commands import page_commands

REPO = Path(__file__).resolve().parents[2]
PAGES = ([REPO / 'README.md'] + sorted((REPO / 'docs').glob('*.md')) +
         sorted(REPO.glob('configs/*/README.md')))

RUN, NEEDS, TESTED, NOT_RUN, SYNOPSIS = ('run', 'needs', 'tested',
                                         'not run', 'synopsis')
_R50 = 'configs/ieee_rgbnt201.py'
_DEMO_CKPT = 'work_dirs/ieee_r18_1xb16-8e_synthetic-demo/epoch_8.pth'
_DEMO_WD = 'work_dirs/ieee_r18_1xb16-8e_synthetic-demo'
_BENCH_EVAL = ('tests/test_tools/test_benchmark_eval.py::'
               'test_rows_per_kind_and_thread_count')
_BENCH_TRAIN = ('tests/test_tools/test_benchmark_train.py::'
                'test_projection_is_iterations_times_step_time')
_ADD_MODULE = 'tests/test_docs/test_examples.py::test_add_your_own_module'
_DEMO_STUDY = (
    'python tools/analysis_tools/run_study.py ' + ' '.join(
        f'configs/{c}_r18_1xb16-8e_synthetic-demo{s}.py' for c, s in (
            ('ieee/ieee', ''), ('fusion/ieee-early-sum', ''),
            ('fusion/ieee-late-sum', ''), ('fusion/ieee-late-concat', ''),
            ('fusion/ieee-progressive', ''), ('losses/ieee-ce', ''),
            ('losses/ieee-ce-center', ''), ('losses/ieee-ce-hc', ''),
            ('ieee/ieee', '-rgb-ti'), ('ieee/ieee', '-rgb-ni'))) +
    ' --seeds 0 1 --work-dir work_dirs/studies/demo-4e --no-validate '
    '--cfg-options train_cfg.max_epochs=4 "param_scheduler.milestones=[3]"')
_CROSS_LOOP = (
    'for name in ieee_r18_1xb16-8e_synthetic-demo ieee_r18_1xb16-8e_synthetic'
    '-demo-rgb-ti ieee_r18_1xb16-8e_synthetic-demo-rgb-ni; do for seed in 0 1;'
    ' do python tools/analysis_tools/eval_missing_modality.py configs/ieee/'
    '$name.py $S/$name/seed_$seed/epoch_4.pth --cross-modal --out $S/$name/'
    'seed_$seed/cross_modal.json done done')

#: Command (as :attr:`Command.text`, one line) -> (kind, detail). For NEEDS
#: the detail lists the strings the failure message must contain.
COVERAGE = {
    # installing, the test suite itself
    'bash tools/install.sh': (NOT_RUN, 'installs packages (network)'),
    'VENV=none bash tools/install.sh': (NOT_RUN, 'installs packages'),
    'EXTRAS=tests,vis,deploy bash tools/install.sh':
        (NOT_RUN, 'installs packages'),
    'TORCH_SPEC="torch==2.13.0 --index-url '
    'https://download.pytorch.org/whl/cu128" bash tools/install.sh':
        (NOT_RUN, 'installs packages'),
    'source .venv/bin/activate': (NOT_RUN, 'shell set-up of install.sh'),
    'pip install -e ".[deploy]"': (NOT_RUN, 'installs packages'),
    'pip install -e ".[vis]"': (NOT_RUN, 'installs packages'),
    'pip install -e ".[$EXTRAS]"': (NOT_RUN, 'installs packages'),
    'pip install --no-deps grad-cam ttach tqdm':
        (NOT_RUN, 'installs packages'),
    'bash tools/run_tests.sh': (NOT_RUN, 'the whole test suite'),
    'bash tools/demo.sh': (NOT_RUN, 'install.sh, then a training of minutes'),
    "python -c 'while 1: pass' &": (NOT_RUN, 'a load generator'),
    # the full-size recipes: the dataset first
    f'python tools/train.py {_R50}': (NEEDS, 'RGBNT201'),
    f'python tools/test.py {_R50} work_dirs/ieee_rgbnt201/epoch_61.pth':
        (NEEDS, 'epoch_61.pth'),
    f'bash tools/dist_train.sh {_R50} 4': (NOT_RUN, 'four processes'),
    'python tools/train.py configs/ieee/ieee_r50_1xb8-61e_rgbnt201-rgb-ti.py':
        (NEEDS, 'RGBNT201'),
    'python tools/misc/check_config.py configs/my_config.py --forward':
        (SYNOPSIS, 'configs/my_config.py: the reader\'s new config'),
    'python tools/misc/check_config.py '
    'configs/ieee/ieee_r50_1xb8-61e_campus.py': (NEEDS, 'campus'),
    'python tools/train.py configs/demo/demo_vit-b16-clip_1xb64-50e_rgbnt201'
    '.py --amp fp16': (NEEDS, 'RGBNT201'),
    # the demo checkpoint (bash tools/demo.sh) first
    'python demo/retrieval_demo.py $T $T/RGB/$Q,$T/NI/$Q,$T/TI/$Q --config '
    'ieee_r18_1xb16-8e_synthetic-demo --checkpoint $CKPT --topk 5 --out '
    'work_dirs/retrieval_demo': (NEEDS, 'epoch_8.pth'),
    'python tools/deployment/pytorch2onnx.py ieee_r18_1xb16-8e_synthetic-demo'
    ' $CKPT --out work_dirs/ieee_r18_1xb16-8e_synthetic-demo.onnx '
    '--dynamic-batch --verify': (NEEDS, 'epoch_8.pth'),
    'python tools/model_converters/publish_model.py $CKPT '
    'work_dirs/ieee_r18_1xb16-8e_synthetic-demo.pth': (NEEDS, 'epoch_8.pth'),
    'python tools/visualization/vis_rank_list.py $CONFIG $CKPT --out-dir '
    'vis/ranks --topk 6 --num-queries 20': (NEEDS, 'data/synthetic/RGBNT201'),
    'python tools/visualization/vis_tsne.py $CONFIG $CKPT --out vis/tsne.png '
    '--num-ids 10 --seed 0': (NEEDS, 'data/synthetic/RGBNT201'),
    'python tools/visualization/vis_actmap.py $CONFIG $CKPT --out-dir '
    'vis/actmap --num-samples 8 --grad-cam': (NEEDS, 'epoch_8.pth'),
    f'python tools/analysis_tools/analyze_logs.py plot_curve {_DEMO_WD} '
    '--keys loss reid/mAP --out vis/curves.png --window-size 8*5':
        (NEEDS, _DEMO_WD),
    'python tools/visualization/browse_dataset.py $CONFIG --out-dir vis/data '
    '--phase train --num 20': (NEEDS, 'data/synthetic/RGBNT201'),
    'python tools/test.py $C $W/epoch_8.pth --cfg-options '
    'test_dataloader.dataset.data_root=$D': (NEEDS, 'epoch_8.pth'),
    'python tools/analysis_tools/eval_missing_modality.py $C $W/epoch_8.pth '
    '--cfg-options test_dataloader.dataset.data_root=$D':
        (NEEDS, 'epoch_8.pth'),
    'python tools/misc/check_config.py $C --forward --cfg-options '
    'train_dataloader.dataset.data_root=$D val_dataloader.dataset.data_root='
    '$D test_dataloader.dataset.data_root=$D':
        (NEEDS, 'data/synthetic/RGBNT201'),
    'python tools/train.py configs/ieee_rgbnt201.py': (NEEDS, 'RGBNT201'),
    'python tools/train.py configs/ieee_rgbnt201.py --cfg-options '
    '"model.modalities=(RGB,TI)" "train_dataloader.dataset.modalities='
    '(RGB,TI)" "val_dataloader.dataset.modalities=(RGB,TI)" '
    '"test_dataloader.dataset.modalities=(RGB,TI)"': (NEEDS, 'RGBNT201'),
    # studies
    'python tools/analysis_tools/summarize_results.py work_dirs/my_study '
    '--out table.md': (NEEDS, 'work_dirs/my_study'),
    'python tools/analysis_tools/summarize_results.py work_dirs/studies/r50 '
    '--out work_dirs/studies/r50.md': (NEEDS, 'work_dirs/studies/r50'),
    # the synthetic set: generated in the sandbox (its small default size)
    'python tools/dataset_converters/generate_synthetic.py data/synthetic':
        (RUN, 'data/synthetic/RGBNT201'),
    'tools/dataset_converters/generate_synthetic.py data/synthetic':
        (NOT_RUN, 'prose: a step of bash tools/demo.sh, run as the line '
         'above'),
    # measurements: the tool tests run each benchmark on small cases
    'python tools/analysis_tools/benchmark_eval.py --cases 3368,15913,2304 '
    '20000,200000,2304': (TESTED, _BENCH_EVAL),
    'python tools/analysis_tools/get_flops.py configs/ieee_rgbnt201.py':
        (TESTED, 'tests/test_tools/test_get_flops.py::'
         'test_cli_prints_table_and_exact_params'),
    'python tools/analysis_tools/benchmark_train.py configs/ieee_rgbnt201.py '
    "--channels-last --variant 'for-loop-sgd:optim_wrapper.optimizer.fused="
    "False' --iters 3 --warmup 1 --val-iters 1 --rounds 2 --train-samples "
    '3951 --val-samples 836': (TESTED, _BENCH_TRAIN),
    'python tools/analysis_tools/benchmark_train.py configs/ieee/ieee_r18_'
    "1xb16-8e_synthetic-demo.py --threads 1 --variant 'for-loop-sgd:"
    "optim_wrapper.optimizer.fused=False' --rounds 3 --num-workers 0 1 2":
        (TESTED, _BENCH_TRAIN),
    'python tools/analysis_tools/benchmark_train.py configs/topreid/'
    'topreid_vit-b16_1xb128-120e_rgbnt201.py --device cuda --amp fp16 '
    "--cfg-options model.backbone.init_cfg=None --variant 'deterministic:"
    "randomness.deterministic=True'": (NEEDS, 'cuda'),
    'python tools/analysis_tools/benchmark_train.py configs/ieee_rgbnt201.py '
    '--device cuda --train-samples 3951 --val-samples 836 --channels-last '
    "--compile --amp bf16 --rounds 3 --variant 'no-cudnn-bench:env_cfg."
    "cudnn_benchmark=False' --out gpu.json": (NEEDS, 'cuda'),
    'python tools/analysis_tools/benchmark_eval.py --cases 836,836,2304 '
    '2000,6000,2304 --rerank --skip-loop --threads 1 2 16 --out quiet.json':
        (TESTED, _BENCH_EVAL),
    'python tools/analysis_tools/benchmark_eval.py --cases 836,836,2304 '
    '2000,6000,2304 --rerank --threads 1 2 4 --skip-loop':
        (TESTED, _BENCH_EVAL),
    'python tools/analysis_tools/benchmark_eval.py --cases 3368,15913,2304 '
    '--threads 1 2 4 --skip-loop': (TESTED, _BENCH_EVAL),
    'OMP_WAIT_POLICY=PASSIVE python tools/analysis_tools/benchmark_eval.py '
    '--cases 836,836,2304 --rerank --skip-loop --threads 1 2':
        (TESTED, _BENCH_EVAL),
    'python tools/analysis_tools/benchmark_retrieval.py --cases 100000,1,2304 '
    '100000,600,2304 100000,167,64 100000,600,64 --backends exact faiss':
        (TESTED, 'tests/test_tools/test_benchmark_retrieval.py::'
         'test_rows_reach_out_as_they_are_measured'),
    'PYTHONPATH=. python check_pull_loss.py': (TESTED, _ADD_MODULE),
    'PYTHONPATH=. python tools/misc/check_config.py configs/ieee/ieee-pull_'
    'r50_1xb8-61e_rgbnt201.py': (TESTED, _ADD_MODULE),
    # DeMo and TOP-ReID: weights files, the datasets, a GPU
    'python tools/train.py configs/demo/demo_vit-b16-clip_1xb64-50e_rgbnt201'
    '.py --cfg-options model.backbone.backbone.init_cfg.checkpoint=/path/to/'
    'ViT-B-16.pt': (NEEDS, 'RGBNT201'),
    'python tools/model_converters/demo_official_to_mmieee.py '
    'DeMo_RGBNT201.pth demo_rgbnt201.pth --check-config configs/demo/'
    'demo_vit-b16-clip_1xb64-50e_rgbnt201.py': (NEEDS, 'DeMo_RGBNT201.pth'),
    'python tools/test.py configs/demo/demo_vit-b16-clip_1xb64-50e_rgbnt201.py'
    ' demo_rgbnt201.pth': (NEEDS, 'demo_rgbnt201.pth'),
    'python tools/train.py configs/demo/demo_vit-tiny_1xb32-20e_synthetic-demo'
    '.py': (NEEDS, 'data/synthetic'),
    'python tools/test.py configs/demo/demo_vit-tiny_1xb32-20e_synthetic-demo'
    '.py work_dirs/demo_vit-tiny_1xb32-20e_synthetic-demo/epoch_20.pth':
        (NEEDS, 'epoch_20.pth'),
    'tools/train.py configs/demo/demo_vit-tiny_1xb32-20e_synthetic-demo.py':
        (NOT_RUN, 'prose: a step of the demo row, run as the line above'),
    'python tools/analysis_tools/get_flops.py configs/topreid/topreid_vit-b16_'
    '1xb128-120e_rgbnt201.py --no-table':
        (TESTED, 'tests/test_tools/test_topreid_tools.py::'
         'test_get_flops_feeds_a_camera_id'),
    'python tools/model_converters/topreid_official_to_mmieee.py RGBNT201_best'
    '.pth topreid_rgbnt201.pth --check-config configs/topreid/topreid_vit-b16_'
    '1xb128-120e_rgbnt201.py': (NEEDS, 'RGBNT201_best.pth'),
    'python tools/model_converters/topreid_official_to_mmieee.py RGBNT100_best'
    '.pth topreid_rgbnt100.pth --direct 0': (NEEDS, 'RGBNT100_best.pth'),
    'python tools/train.py configs/topreid/topreid_vit-b16_1xb128-120e_'
    'rgbnt201.py --amp': (NEEDS, 'RGBNT201'),
    'python tools/test.py configs/topreid/topreid_vit-b16_1xb128-120e_rgbnt201'
    '.py work_dirs/topreid_vit-b16_1xb128-120e_rgbnt201/epoch_120.pth':
        (NEEDS, 'epoch_120.pth'),
    'python tools/train.py configs/topreid/topreid_vit-tiny_1xb32-30e_'
    'synthetic-demo.py': (NEEDS, 'data/synthetic'),
    'python tools/test.py configs/topreid/topreid_vit-tiny_1xb32-30e_synthetic'
    '-demo.py work_dirs/topreid_vit-tiny_1xb32-30e_synthetic-demo/'
    'epoch_30.pth':
        (NEEDS, 'epoch_30.pth'),
    # the studies (10 configs x 2-3 seeds each)
    'python tools/analysis_tools/run_study.py configs/ieee/ieee_r50_1xb8-61e_'
    'rgbnt201.py configs/fusion/ieee-early-sum_r50_1xb8-61e_rgbnt201.py '
    'configs/fusion/ieee-late-sum_r50_1xb8-61e_rgbnt201.py configs/fusion/'
    'ieee-late-concat_r50_1xb8-61e_rgbnt201.py configs/fusion/ieee-'
    'progressive_r50_1xb8-61e_rgbnt201.py configs/losses/ieee-ce_r50_1xb8-'
    '61e_rgbnt201.py configs/losses/ieee-ce-center_r50_1xb8-61e_rgbnt201.py '
    'configs/losses/ieee-ce-hc_r50_1xb8-61e_rgbnt201.py configs/ieee/ieee_r50'
    '_1xb8-61e_rgbnt201-rgb-ti.py configs/ieee/ieee_r50_1xb8-61e_rgbnt201-'
    'rgb-ni.py --seeds 0 1 2 --work-dir work_dirs/studies/r50':
        (NEEDS, 'RGBNT201'),
    _DEMO_STUDY: (TESTED, 'tests/test_tools/test_run_study.py::'
                  'test_real_test_run_then_summary'),
    'python tools/analysis_tools/summarize_results.py $S --configs ieee_r18_'
    '1xb16-8e_synthetic-demo ieee-early-sum_r18_1xb16-8e_synthetic-demo '
    'ieee-late-sum_r18_1xb16-8e_synthetic-demo ieee-late-concat_r18_1xb16-8e'
    '_synthetic-demo ieee-progressive_r18_1xb16-8e_synthetic-demo':
        (NEEDS, 'work_dirs/studies/demo-4e'),
    'python tools/analysis_tools/summarize_results.py $S --configs ieee-ce_r18'
    '_1xb16-8e_synthetic-demo ieee-ce-center_r18_1xb16-8e_synthetic-demo '
    'ieee-ce-hc_r18_1xb16-8e_synthetic-demo ieee_r18_1xb16-8e_synthetic-demo':
        (NEEDS, 'work_dirs/studies/demo-4e'),
    'python tools/analysis_tools/summarize_results.py $S --configs ieee_r18_'
    '1xb16-8e_synthetic-demo-rgb-ti ieee_r18_1xb16-8e_synthetic-demo-rgb-ni':
        (NEEDS, 'work_dirs/studies/demo-4e'),
    _CROSS_LOOP: (NEEDS, 'epoch_4.pth'),
    f'python tools/analysis_tools/analyze_logs.py plot_curve {_DEMO_WD} '
    '--keys loss reid/mAP --out vis/curves.png': (NEEDS, _DEMO_WD),
    # prose: the steps of bash tools/demo.sh
    'tools/train.py configs/ieee/ieee_r18_1xb16-8e_synthetic-demo.py':
        (NOT_RUN, 'prose: a step of bash tools/demo.sh'),
}


def all_commands():
    commands = []
    for page in PAGES:
        commands += page_commands(page, REPO)
    return commands


def kind_of(command):
    """(kind, detail) of a command: its page's marker, the table, or the
    synopsis rule."""
    if command.is_assignment:
        return 'assignment', ''
    if command.text in COVERAGE:
        return COVERAGE[command.text]
    if command.needs:
        return NEEDS, ', '.join(command.needs)
    if command.is_synopsis:
        return SYNOPSIS, ''
    return None, ''


def test_every_command_is_accounted_for():
    commands = all_commands()
    assert len(commands) > 100
    missing = [f'{c.where}: {c.text}' for c in commands
               if kind_of(c)[0] is None]
    assert not missing, (
        'commands in the docs that no test covers (add a `# needs:` marker,'
        ' or an entry in tests/test_docs/test_commands.py):\n' +
        '\n'.join(missing))
    texts = {c.text for c in commands}
    stale = [t for t in COVERAGE if t not in texts]
    assert not stale, f'entries no page has any more: {stale}'


_TOOL = re.compile(r'(?:tools|demo)/[\w/.-]+\.(?:py|sh)')
_OPTION = re.compile(r'(?<![\w-])--[a-z][\w-]*')


def tool_calls():
    """(tool, subcommand) -> the options the docs give it, over every
    command that starts a Python tool of the repository."""
    calls = {}
    for command in all_commands():
        match = _TOOL.search(command.text)
        if not match:
            continue
        tool = match.group(0)
        rest = command.text[match.end():].split()
        sub = rest[0] if (tool.endswith('.py') and rest and
                          re.fullmatch(r'[a-z][a-z_]+', rest[0])) else ''
        options = calls.setdefault((tool, sub), set())
        if tool.endswith('.py'):
            options.update(_OPTION.findall(command.text[match.end():]))
    return calls


_CALLS = tool_calls()

#: Runs each tool's ``--help`` in one interpreter (the imports once):
#: argv -> what it printed, as JSON.
_HELP = """
import contextlib, io, json, runpy, sys
out = {}
for argv in json.loads(sys.argv[1]):
    buf = io.StringIO()
    sys.argv = argv
    with contextlib.redirect_stdout(buf):
        try:
            runpy.run_path(argv[0], run_name='__main__')
        except SystemExit:
            pass
    out[' '.join(argv)] = buf.getvalue()
print(json.dumps(out))
"""


def test_tools_accept_the_options_shown(tools):
    """Every tool a page names exists; a Python tool's ``--help`` lists
    every option any page gives it (synopses included)."""
    argvs = []
    for (tool, sub), options in sorted(_CALLS.items()):
        assert (REPO / tool).is_file(), f'{tool} is named in the docs'
        if tool.endswith('.py'):
            argvs.append([tool] + ([sub] if sub else []) + ['--help'])
    assert len(argvs) > 15
    proc = tools.run([sys.executable, '-c', _HELP, json.dumps(argvs)],
                     timeout=300)
    helps = json.loads(proc.stdout.strip().splitlines()[-1])
    missing = {}
    for argv in argvs:
        text = helps[' '.join(argv)]
        assert 'usage:' in text, f'{argv}: {text[-500:]}'
        key = (argv[0], argv[1] if len(argv) == 3 else '')
        lacking = sorted(_CALLS[key] - set(_OPTION.findall(text)))
        if lacking:
            missing[' '.join(key)] = lacking
    assert not missing, f'options the docs show that --help lacks: {missing}'


def _needs_commands():
    seen, chosen = set(), []
    for command in all_commands():
        kind, detail = kind_of(command)
        if kind != NEEDS:
            continue
        match = _TOOL.search(command.text)
        key = (match.group(0) if match else command.text,
               'a checkpoint' if detail.endswith('.pth') else detail)
        if key not in seen:
            seen.add(key)
            chosen.append(command)
    return chosen


_NEEDS = _needs_commands()


@pytest.mark.parametrize('command', _NEEDS, ids=[c.where for c in _NEEDS])
def test_commands_that_need_files_name_them(clone, command):
    """A command that needs a dataset, a checkpoint or a GPU fails in a
    fresh clone, naming what is missing (one command of each tool and
    missing thing: each run starts torch and mmengine)."""
    proc = clone.run(command, expect=None, timeout=90)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-2000:]
    for need in kind_of(command)[1].split(', '):
        assert need in out, f'{command.where}: {need!r} not in\n{out[-2000:]}'
    assert 'Traceback' not in out, out[-3000:]


def test_mapped_tests_run_the_tool():
    """A TESTED entry names a test that exists and runs the same tool, or
    reads the command's page itself."""
    pages = {}
    for command in all_commands():
        pages.setdefault(command.text, set()).add(Path(command.page).name)
    for text, (kind, detail) in COVERAGE.items():
        if kind != TESTED:
            continue
        path, name = detail.split('::')
        source = (REPO / path).read_text()
        assert re.search(rf'^def {name}\(', source, re.M), detail
        match = _TOOL.search(text)
        names = pages[text] | ({Path(match.group(0)).stem} if match else set())
        assert any(n in source for n in names), f'{path} runs none of {names}'


_RUN = list({c.text: c for c in reversed(all_commands())
             if kind_of(c)[0] == RUN}.values())[::-1]


@pytest.mark.parametrize('command', _RUN, ids=[c.where for c in _RUN])
def test_commands_run_as_written(sandbox, command):
    """RUN commands end with status 0 in a fresh clone and write what their
    entry names (the synthetic set at the sandbox's small size); a command
    on several pages runs once."""
    box = sandbox()
    box.run(command, timeout=120)
    assert (box.root / kind_of(command)[1]).is_dir()
