import subprocess
import sys


def test_import_stance_is_light():
    code = "import sys, stance; print(sorted(m for m in ('torch', 'transformers', 'spacy', 'fastapi', 'ray') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


def test_cli_help_lists_the_commands():
    out = subprocess.run([sys.executable, "-m", "stance.cli", "--help"], capture_output=True, text=True, check=True).stdout
    for command in ("score", "train", "evaluate", "predict-stance", "compare", "serve", "convert"):
        assert command in out


def test_the_main_process_of_a_worker_run_stays_without_torch():
    """`stance score --workers N`: the parent reads, writes and decides the backend without
    importing torch (hundreds of MB); only the workers load the model."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import stance.batch, stance.cli, stance.writers, stance.readers, stance.model_files\n"
        "from stance.batch import ScoreOptions, _backend_decided\n"
        "assert _backend_decided(ScoreOptions()).backend == 'torch'\n"
        "print(sorted(m for m in ('torch', 'transformers', 'spacy') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
