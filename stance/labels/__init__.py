"""The annotation loop: `format` (the label format, one sentence per JSON line), `check` (every problem
of a label file), `importers` (from annotation tools), `taxonomy` (the device taxonomy of configs/devices.yaml)
and `suggest` (which sentences to label next)."""
