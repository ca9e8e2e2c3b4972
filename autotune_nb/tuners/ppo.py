"""Proximal policy optimisation over a space's categorical decisions (NNI's ``PPOTuner`` and its
classArgs), in numpy: no deep-learning framework.

A configuration is an episode of decisions, one per categorical dimension (choice, layer_choice,
input_choice) in the space's fixed order, a nested one only when its branch was taken. The policy is
autoregressive and linear: the logits of decision ``t`` are ``features_t @ W_t + b_t``, where
``features_t`` holds one-hot codes of the decisions already made and of the step ``t``; a linear value
function reads the same features. The episode's one reward, at its last step, is minus the trial's
loss standardised over every scored trial; advantages are GAE(``gamma``, ``lam``) over the steps.

Every ``trials_per_update`` scored trials, the policy takes ``epochs_per_update`` passes of Adam
(``lr``) over those episodes in minibatches of ``minibatch_size`` episodes, minimising PPO's clipped
surrogate (``cliprange``) plus ``vf_coef`` times the value loss minus ``ent_coef`` times the entropy,
the gradient clipped to norm ``max_grad_norm``. The defaults suit tens to hundreds of trials (NNI's,
lr=3e-4 over 20-trial updates, barely move a policy in a hundred trials).

Suggestions are sampled from the policy; one whose configuration is running or finished is drawn
again (at most ``RANDOM_ATTEMPTS`` times), then a random new configuration is taken instead.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..class_args import require_int, require_number, require_positive_number
from ..space import SearchSpace
from ..trial import Trial
from .base import RANDOM_ATTEMPTS, Tuner, config_key

_ADAM_BETAS = (0.9, 0.999)
_ADAM_EPSILON = 1e-8


class _Episode:
    """One configuration's decisions: per step, its features, the option taken and its log-probability
    under the policy that proposed it."""

    def __init__(self, steps: list[int], features: np.ndarray, actions: list[int], log_probs: list[float]):
        self.steps, self.features, self.actions, self.log_probs = steps, features, actions, log_probs
        self.reward = 0.0


class PPOTuner(Tuner):
    """PPO on a linear autoregressive policy over the categorical decisions.

    Args:
        trials_per_update: scored trials between policy updates.
        epochs_per_update: passes over those trials' episodes per update.
        minibatch_size: episodes per gradient step.
        ent_coef: the weight of the entropy bonus (larger keeps exploring).
        lr: Adam's learning rate.
        vf_coef: the weight of the value function's loss.
        max_grad_norm: the largest norm of a gradient step.
        gamma: the discount over the decisions of an episode.
        lam: GAE's lambda.
        cliprange: PPO's clipping of the probability ratio.

    Example:
        >>> space = {"op": {"_type": "layer_choice", "_value": ["conv3", "conv5", "pool"]}}
        >>> tuner = PPOTuner(space, optimize_mode="minimize", seed=0)
        >>> [config] = tuner.suggest(1)
    """

    supported_types = frozenset({"choice", "layer_choice", "input_choice"})

    def __init__(self, space: SearchSpace | dict, *, optimize_mode: str = "maximize", seed: int | None = None,
                 trials_per_update: int = 10, epochs_per_update: int = 4, minibatch_size: int = 5,
                 ent_coef: float = 0.01, lr: float = 0.05, vf_coef: float = 0.5, max_grad_norm: float = 0.5,
                 gamma: float = 0.99, lam: float = 0.95, cliprange: float = 0.2):
        super().__init__(space, optimize_mode=optimize_mode, seed=seed)
        owner = "PPOTuner"
        self.trials_per_update = require_int(owner, "trials_per_update", trials_per_update, minimum=1)
        self.epochs_per_update = require_int(owner, "epochs_per_update", epochs_per_update, minimum=1)
        self.minibatch_size = require_int(owner, "minibatch_size", minibatch_size, minimum=1)
        self.ent_coef = require_number(owner, "ent_coef", ent_coef, minimum=0.0)
        self.lr = require_positive_number(owner, "lr", lr)
        self.vf_coef = require_number(owner, "vf_coef", vf_coef, minimum=0.0)
        self.max_grad_norm = require_positive_number(owner, "max_grad_norm", max_grad_norm)
        self.gamma = require_number(owner, "gamma", gamma, minimum=0.0, maximum=1.0)
        self.lam = require_number(owner, "lam", lam, minimum=0.0, maximum=1.0)
        self.cliprange = require_positive_number(owner, "cliprange", cliprange)
        dims = self.space.dimensions
        self._sizes = [len(dim.distribution.options) for dim in dims]
        self._offsets = np.concatenate([[0], np.cumsum(self._sizes)]).astype(int)
        self._n_features = int(self._offsets[-1]) + len(dims) + 1  # decisions, step, bias
        #: The weights: one head per decision (features -> logits), then the value function's.
        self._weights = [*(np.zeros((self._n_features, size)) for size in self._sizes), np.zeros(self._n_features)]
        self._adam_moments = ([np.zeros_like(w) for w in self._weights], [np.zeros_like(w) for w in self._weights])
        self._adam_steps = 0
        self._proposed: dict[str, _Episode] = {}
        self._batch: list[_Episode] = []
        self._losses: list[float] = []

    # --- suggestions --------------------------------------------------------------------------
    def _suggest(self, n: int) -> list[dict[str, Any]]:
        taken = {config_key(trial.params) for trial in self.history}
        taken.update(config_key(config) for config in self.pending)
        chosen = []
        for _ in range(n):
            config = self._sample_new(taken)
            if config is None:
                break
            taken.add(config_key(config))
            chosen.append(config)
        return chosen

    def _sample_new(self, taken: set[str]) -> dict[str, Any] | None:
        for _ in range(RANDOM_ATTEMPTS):
            config, episode = self._rollout()
            key = config_key(config)
            if key not in taken:
                self._proposed[key] = episode
                return config
        return self.random_config(taken)

    def _rollout(self) -> tuple[dict[str, Any], _Episode]:
        """One episode from the policy, and the configuration it decides."""
        episode = self._episode()
        point = np.full(len(self._sizes), np.nan)
        for t, action in zip(episode.steps, episode.actions):
            point[t] = (action + 0.5) / self._sizes[t]
        return self.space.decode(point), episode

    def _episode(self, config: dict[str, Any] | None = None) -> _Episode:
        """The decisions of ``config`` scored under the current policy, or (None) drawn from it."""
        flat = None if config is None else self.space.flatten(config)
        taken_options: list[int | None] = []
        steps, rows, actions, log_probs = [], [], [], []
        for t, dim in enumerate(self.space.dimensions):
            if not all(taken_options[c] == o for c, o in dim.conditions):
                taken_options.append(None)
                continue
            row = self._features(t, taken_options)
            probs = _softmax(row @ self._weights[t])
            if flat is None:
                action = int(self.rng.choice(len(probs), p=probs))
            else:
                action = dim.distribution.index_of(flat[dim.key])
            steps.append(t)
            rows.append(row)
            actions.append(action)
            log_probs.append(float(math.log(max(probs[action], 1e-300))))
            taken_options.append(action)
        return _Episode(steps, np.array(rows), actions, log_probs)

    def _features(self, step: int, taken_options: list[int | None]) -> np.ndarray:
        row = np.zeros(self._n_features)
        for t, option in enumerate(taken_options):
            if option is not None:
                row[self._offsets[t] + option] = 1.0
        row[self._offsets[-1] + step] = 1.0
        row[-1] = 1.0
        return row

    # --- learning -----------------------------------------------------------------------------
    def _observe(self, trial: Trial) -> None:
        key = config_key(trial.params)
        episode = self._proposed.pop(key, None)
        loss = self.loss(trial)
        if loss is None or not math.isfinite(loss):
            return
        self._losses.append(loss)
        self._batch.append(episode if episode is not None else self._episode(trial.params))
        if len(self._batch) >= self.trials_per_update:
            self._update(self._batch[-self.trials_per_update:], self._losses[-self.trials_per_update:])
            self._batch = []

    def _update(self, episodes: list[_Episode], losses: list[float]) -> None:
        history = np.array(self._losses)
        scale = float(history.std()) or 1.0
        for episode, loss in zip(episodes, losses):
            episode.reward = -(loss - float(history.mean())) / scale
        samples = [self._step_samples(episode) for episode in episodes]
        advantages = np.concatenate([s["advantage"] for s in samples])
        mean, std = float(advantages.mean()), float(advantages.std()) or 1.0
        for s in samples:
            s["advantage"] = (s["advantage"] - mean) / std
        for _ in range(self.epochs_per_update):
            order = self.rng.permutation(len(samples))
            for start in range(0, len(order), self.minibatch_size):
                self._gradient_step([samples[i] for i in order[start:start + self.minibatch_size]])

    def _step_samples(self, episode: _Episode) -> dict[str, Any]:
        """Per step: GAE advantages and returns, the reward coming at the last step only."""
        values = episode.features @ self._weights[-1]
        count = len(episode.steps)
        rewards = np.zeros(count)
        rewards[-1] = episode.reward
        advantage = np.zeros(count)
        running = 0.0
        for i in reversed(range(count)):
            following = values[i + 1] if i + 1 < count else 0.0
            delta = rewards[i] + self.gamma * following - values[i]
            running = delta + self.gamma * self.lam * running
            advantage[i] = running
        return {"episode": episode, "advantage": advantage, "return": advantage + values}

    def _gradient_step(self, samples: list[dict[str, Any]]) -> None:
        grads = [np.zeros_like(w) for w in self._weights]
        count = sum(len(s["episode"].steps) for s in samples)
        for s in samples:
            episode = s["episode"]
            for i, (t, action) in enumerate(zip(episode.steps, episode.actions)):
                row = episode.features[i]
                probs = _softmax(row @ self._weights[t])
                log_probs = np.log(np.maximum(probs, 1e-300))
                ratio = math.exp(log_probs[action] - episode.log_probs[i])
                advantage = s["advantage"][i]
                clipped = min(max(ratio, 1 - self.cliprange), 1 + self.cliprange)
                # d(-min(ratio * A, clip(ratio) * A)) / d log p: the unclipped term's, where it is the min.
                d_log_prob = -advantage * ratio if ratio * advantage <= clipped * advantage else 0.0
                one_hot = np.zeros_like(probs)
                one_hot[action] = 1.0
                entropy = -float(probs @ log_probs)
                d_logits = d_log_prob * (one_hot - probs) + self.ent_coef * probs * (log_probs + entropy)
                grads[t] += np.outer(row, d_logits) / count
                value_error = float(row @ self._weights[-1]) - s["return"][i]
                grads[-1] += self.vf_coef * value_error * row / count
        norm = math.sqrt(sum(float((g**2).sum()) for g in grads))
        if norm > self.max_grad_norm:
            grads = [g * (self.max_grad_norm / norm) for g in grads]
        self._adam_step(grads)

    def _adam_step(self, grads: list[np.ndarray]) -> None:
        self._adam_steps += 1
        beta1, beta2 = _ADAM_BETAS
        correction = math.sqrt(1 - beta2**self._adam_steps) / (1 - beta1**self._adam_steps)
        for weight, first, second, grad in zip(self._weights, *self._adam_moments, grads):
            first *= beta1
            first += (1 - beta1) * grad
            second *= beta2
            second += (1 - beta2) * grad**2
            weight -= self.lr * correction * first / (np.sqrt(second) + _ADAM_EPSILON)


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max())
    return shifted / shifted.sum()
