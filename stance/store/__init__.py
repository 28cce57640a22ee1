"""Where models live: `model_files` (what a model name points to, its version hash), `registry` (the
local registry of versions, one active) and `card` (the model card written on save)."""
