"""Search spaces shared by the test suites."""

#: One parameter of every NNI ``_type``.
EVERY_TYPE = {
    "c": {"_type": "choice", "_value": ["a", 2, 3.5]},
    "ri": {"_type": "randint", "_value": [-2, 3]},
    "u": {"_type": "uniform", "_value": [-1.5, 2.5]},
    "qu": {"_type": "quniform", "_value": [0.3, 2.0, 0.5]},
    "lu": {"_type": "loguniform", "_value": [1e-4, 1e-1]},
    "qlu": {"_type": "qloguniform", "_value": [16, 512, 16]},
    "n": {"_type": "normal", "_value": [1.0, 2.0]},
    "qn": {"_type": "qnormal", "_value": [0.0, 3.0, 0.5]},
    "ln": {"_type": "lognormal", "_value": [0.0, 1.0]},
    "qln": {"_type": "qlognormal", "_value": [2.0, 1.0, 1]},
    "lc": {"_type": "layer_choice", "_value": ["conv3", "conv5", "pool"]},
    "ic": {"_type": "input_choice", "_value": {"candidates": ["in0", "in1", "node0"], "n_chosen": 2}},
}
