"""The neural model: `network` (encoder + stance head + device-span head), `config` (what config.json
holds), `bases` (base encoders by short name), `subwords` and `encoding` (text <-> model inputs, and
network outputs -> labels and spans: the one decoder), `backends` (torch / OpenVINO / ONNX runners)
and `modeling` (`StanceModel`: load and predict). The shipped weights are data in `stance/models/`."""
