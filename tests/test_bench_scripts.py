"""Every benchmark script still starts: its imports resolve and its options parse (``--help``).

Nothing else runs the bench scripts between sessions, so an import of a renamed or removed helper
(``bench/score.py`` once imported a private function that had gone) would go unnoticed until the next
measurement. ``summarise_eval.py`` takes a file, not options: it is imported instead.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
SCRIPTS = sorted(p.name for p in BENCH.glob("*.py") if p.name != "summarise_eval.py")


@pytest.mark.parametrize("script", SCRIPTS)
def test_bench_script_starts(script: str) -> None:
    done = subprocess.run([sys.executable, str(BENCH / script), "--help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "usage" in done.stdout.lower()


def test_summarise_eval_imports() -> None:
    done = subprocess.run(
        [sys.executable, "-c", f"import runpy; runpy.run_path({str(BENCH / 'summarise_eval.py')!r})"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_a_backend_agrees_only_when_stance_and_devices_hold() -> None:
    """bench/backends.py --record: `auto` may consider a backend only when neither stance macro-F1 nor device
    partial F1 drops by 0.005 (an int8 graph that kept stance but changed a third of the device spans did)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("backends_bench", BENCH / "backends.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.agrees({"max_stance_macro_f1_drop": 0.0, "max_device_partial_f1_drop": 0.001})
    assert not module.agrees({"max_stance_macro_f1_drop": -0.005, "max_device_partial_f1_drop": 0.028})
    assert not module.agrees({"max_stance_macro_f1_drop": 0.006, "max_device_partial_f1_drop": 0.0})


def test_held_out_script_states_its_usage() -> None:
    done = subprocess.run(["bash", str(BENCH / "held_out.sh")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "usage: bench/held_out.sh OLD_MODEL NEW_MODEL OUT_DIR" in done.stderr


def test_devices_real_reports_the_flagged_share_both_ways() -> None:
    """All device-free sentences, and apart those not sampled where a model found a device (training's limit)."""
    import sys

    from stance.labels.format import LabelRecord

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    from devices_real import score

    records = [
        LabelRecord("A calm sentence.", meta={"chosen_by": "random"}),
        LabelRecord("A sentence a model picked.", meta={"chosen_by": "model"}),
    ]
    result = score(records, [[], [(2, 10, "loaded_language")]])
    assert result["device_free_flagged_share"] == 0.5
    assert result["device_free_not_model_chosen"] == 1 and result["device_free_not_model_chosen_flagged_share"] == 0.0
