import subprocess
import sys


def test_import_stance_is_light():
    code = (
        "import sys, stance; print(sorted(m for m in ('torch', 'transformers', 'spacy', 'fastapi', 'ray') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


def test_cli_help_lists_the_commands():
    out = subprocess.run([sys.executable, "-m", "stance.cli.main", "--help"], capture_output=True, text=True, check=True).stdout
    for command in ("score", "train", "evaluate", "predict-stance", "compare", "serve", "convert"):
        assert command in out


def test_python_dash_m_stance_is_the_stance_command():
    out = subprocess.run([sys.executable, "-m", "stance", "--help"], capture_output=True, text=True, check=True).stdout
    assert "Usage: stance" in out and "score" in out and "evaluate" in out


def test_the_main_process_of_a_worker_run_stays_without_torch(tiny_model_dir, tmp_path):
    """`stance score --workers N`: the parent reads, writes and decides the backend without
    importing torch (hundreds of MB); only the workers load the model. ``auto`` is decided
    without torch both where no agreement is recorded and where the timing is cached."""
    import json
    import shutil

    from stance.model.backends import auto_choice_file
    from stance.store.model_files import model_version

    bare, agreed = tmp_path / "bare", tmp_path / "agreed"
    shutil.copytree(tiny_model_dir, bare)
    shutil.copytree(tiny_model_dir, agreed)
    (agreed / "backends.json").write_text(json.dumps({"openvino": {"agrees": True, "max_device_partial_f1_drop": 0.0}}))
    cached = auto_choice_file(agreed, model_version(agreed), 1)
    cached.parent.mkdir(parents=True)
    cached.write_text(json.dumps({"chosen": "openvino", "candidates": ["openvino"]}))
    code = (
        "import sys\n"
        "import stance.run.local, stance.cli.main, stance.io.writers, stance.io.readers, stance.store.model_files\n"
        "from stance.run.options import ScoreOptions\n"
        "from stance.run.local import decide_backend\n"
        "from stance.run.options import pin_model\n"
        f"assert pin_model(ScoreOptions(model={str(bare)!r})).model_version\n"  # the model's files checked, light
        f"assert decide_backend(ScoreOptions(model={str(bare)!r}), 1).backend == 'torch'\n"
        f"assert decide_backend(ScoreOptions(model={str(agreed)!r}), 1).backend == 'openvino'\n"
        "print(sorted(m for m in ('torch', 'transformers', 'spacy') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
