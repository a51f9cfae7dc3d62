#!/usr/bin/env python3
"""Writes Tests/Fixtures/schedulers.json: whole sampling runs of diffusers' DDIMScheduler (eta 0,
no clipping) and DPMSolverMultistepScheduler (DPM-Solver++(2M), lower-order final step, final
sigma zero) on SD's "scaled_linear" schedule (linspace of sqrt(beta), squared: ldm's "linear"), with
a closed-form stand-in network, so the Swift samplers can be checked step for step:

    model(x, t) = 0.3 * x * cos(t / 300) + 0.2 * sin(x)   (an "epsilon" or "v" prediction)

Timesteps are diffusers' "linspace" spacing: round(linspace(0, T - 1, n))[::-1], this project's
`Respacing.evenly` for the step counts used here (no .5 ties); DPM-Solver++ is given the same
timesteps (its own linspace spacing stops at T/n and jumps to sigma 0 from there; given a list that
ends at t = 0, its last, first-order step to sigma 0 returns x0, as this project's does).
    python Tools/golden/make_scheduler_fixtures.py
"""
import json
import os

import torch
import diffusers
from diffusers import DDIMScheduler, DPMSolverMultistepScheduler

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def model(x, t):
    return 0.3 * x * torch.cos(torch.tensor(t / 300.0)) + 0.2 * torch.sin(x)


def run(scheduler, steps, x, timesteps=None):
    if timesteps is None:
        scheduler.set_timesteps(steps)
        # DDIMScheduler takes the previous timestep as t - T // num_inference_steps whatever the
        # spacing; with n - 1 there it is the next timestep of the evenly spaced list (999 / (n - 1)
        # is an integer for the counts used here), and t = 0 steps to the final alpha of 1.
        scheduler.num_inference_steps = steps - 1
    else:
        scheduler.set_timesteps(timesteps=timesteps)
    for t in scheduler.timesteps:
        x = scheduler.step(model(x, int(t)), t, x).prev_sample
    return x, [int(t) for t in scheduler.timesteps]


def main():
    common = dict(num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                  timestep_spacing="linspace")
    generator = torch.Generator().manual_seed(7)
    x = torch.randn(1, 2, 3, 4, generator=generator, dtype=torch.float64)
    cases = []
    for prediction in ["epsilon", "v_prediction"]:
        for steps in [4, 10]:
            ddim = DDIMScheduler(**common, clip_sample=False, set_alpha_to_one=True, prediction_type=prediction)
            out, timesteps = run(ddim, steps, x.clone())
            cases.append({"sampler": "ddim", "prediction": prediction, "steps": steps, "timesteps": timesteps,
                          "output": out.reshape(-1).tolist()})
            dpm = DPMSolverMultistepScheduler(**common, algorithm_type="dpmsolver++", solver_order=2, lower_order_final=True,
                                              final_sigmas_type="zero", thresholding=False, prediction_type=prediction)
            out, timesteps = run(dpm, steps, x.clone(), timesteps=timesteps)
            cases.append({"sampler": "dpm-solver++", "prediction": prediction, "steps": steps, "timesteps": timesteps,
                          "output": out.reshape(-1).tolist()})
    with open(os.path.join(ROOT, "Tests", "Fixtures", "schedulers.json"), "w") as f:
        json.dump({"generator": "Tools/golden/make_scheduler_fixtures.py", "diffusers": diffusers.__version__,
                   "torch": torch.__version__, "input": x.reshape(-1).tolist(), "cases": cases}, f)


if __name__ == "__main__":
    main()
