#!/usr/bin/env python3
"""Checks ubiq's reading of a model saved by M4L.RhythmVAE against an independent reference.

The reference is numpy over the device's own files: `decoder/model.json` (the Keras layer
graph) and `decoder/weights.bin` (float32, little-endian, in manifest order), computed in
float64 layer by layer as Keras defines the layers (Dense, BatchNormalization in inference,
LeakyReLU, Concatenate). At 25 points of the latent plane (a 5 × 5 grid over −2..2, with
conditions that vary from point to point) it compares every raw output of
`ubiq generate --rhythm-model DIR --json` (onset probability, velocity, time shift per class
and tick) and prints the largest difference; it exits 1 when one exceeds the tolerance.

    python3 -m venv venv && venv/bin/pip install numpy
    venv/bin/python scripts/rhythmvae-reference.py ../shared/models/rhythmvae-aidj2/basic_* \
        [--ubiq target/release/ubiq] [--tolerance 1e-4]
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np


def load(folder: Path):
    topology = json.loads((folder / "model.json").read_text())
    blob = (folder / "weights.bin").read_bytes()
    weights, at = {}, 0
    for group in topology["weightsManifest"]:
        for w in group["weights"]:
            n = int(np.prod(w["shape"])) if w["shape"] else 1
            weights[w["name"]] = np.frombuffer(blob, "<f4", n, at).astype(np.float64).reshape(w["shape"])
            at += 4 * n
    model = topology["modelTopology"]
    model = model.get("model_config", model)
    return model["config"], weights


def run(config, weights, inputs):
    values = {}
    order = [i[0] for i in config["input_layers"]]
    for layer in config["layers"]:
        kind, cfg = layer["class_name"], layer["config"]
        name = cfg["name"]
        args = [values[n[0]] for n in layer["inbound_nodes"][0]] if layer["inbound_nodes"] else []
        if kind == "InputLayer":
            y = np.asarray(inputs[order.index(name)], dtype=np.float64)
        elif kind == "Dense":
            y = args[0] @ weights[name + "/kernel"]
            if cfg.get("use_bias", True):
                y = y + weights[name + "/bias"]
            act = cfg.get("activation", "linear")
            y = {"linear": lambda v: v, "sigmoid": lambda v: 1 / (1 + np.exp(-v)),
                 "tanh": np.tanh, "relu": lambda v: np.maximum(v, 0)}[act](y)
        elif kind == "BatchNormalization":
            eps = cfg.get("epsilon", 1e-3)
            y = (args[0] - weights[name + "/moving_mean"]) / np.sqrt(weights[name + "/moving_variance"] + eps)
            if cfg.get("scale", True):
                y = y * weights[name + "/gamma"]
            if cfg.get("center", True):
                y = y + weights[name + "/beta"]
        elif kind == "LeakyReLU":
            y = np.where(args[0] >= 0, args[0], cfg.get("alpha", 0.3) * args[0])
        elif kind == "Concatenate":
            y = np.concatenate(args)
        else:
            raise SystemExit(f"{name}: the reference does not compute {kind}")
        values[name] = y
    return [values[o[0]] for o in config["output_layers"]]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model", nargs="+", type=Path)
    p.add_argument("--ubiq", default="target/release/ubiq")
    p.add_argument("--tolerance", type=float, default=1e-4)
    a = p.parse_args()
    worst_all = 0.0
    for folder in a.model:
        config, weights = load(folder / "decoder")
        conditions = len(config["input_layers"]) - 1
        worst = 0.0
        for i, x in enumerate(np.linspace(-2, 2, 5)):
            for j, y in enumerate(np.linspace(-2, 2, 5)):
                cond = [(-1.5 + 0.75 * ((i + j) % 5)), (1.0 - 0.5 * i), (0.4 * j - 0.8)]
                out = subprocess.run(
                    [a.ubiq, "generate", "--rhythm-model", str(folder), "--z", f"{x},{y}",
                     "--kick", str(cond[0]), "--hats", str(cond[1]), "--offbeat", str(cond[2]),
                     "--json"], check=True, capture_output=True, text=True).stdout
                got = json.loads(out)
                ref = run(config, weights, [[x, y]] + [[c] for c in cond[:conditions]])
                for head, r in zip(["onsets", "velocities", "shifts"], ref):
                    ours = np.concatenate([got[head][c] for c in got["classes"]])
                    worst = max(worst, float(np.max(np.abs(ours - r))))
        print(f"{folder.name}: {conditions} conditions, 25 points, largest difference {worst:.2e}")
        worst_all = max(worst_all, worst)
    sys.exit(0 if worst_all <= a.tolerance else 1)


if __name__ == "__main__":
    main()
