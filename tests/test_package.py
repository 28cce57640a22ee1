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
