"""The note reader: a page path that learns to read noteheads, then lays out what each column prints.

The paper's U-Net must discover for itself, from a Dice loss on a thin band,
that matching audio to a page means reading pitch; on two CPU cores it does
not get there (benchmarks/page_pitch_check.py, README "Training"). The note
reader splits the page path in two:

- a small fully convolutional network (dilated 3x3 convs, receptive field
  about a system high) says at every pixel whether a notehead is centred
  there, which register it sounds in (PITCH_BINS bins of
  sheetsync.train.pitch) and whether the pixel lies inside a system. These are
  local questions with dense answers in every page of the dataset, so it
  learns them in a few hundred steps;
- a fixed layout step (no weights) turns those maps into `FEATURES` page
  features for the audio query to match: for every pixel inside a system, the
  registers printed in its system's column at the pixel ("here": a column
  lights from two pixels left of it to six right, as the band follows the
  music towards the next note), and in three stretches further left (what
  was printed one, two and three notes earlier), plus the system mask. A
  column's registers are summed over the pixel's run of system rows and the
  ledger lines just beyond it, so a band spans its system as the targets do.

The audio query then says which registers sound now and which sounded just
before, and the map is high where the page prints that sequence. Everything
here is per page, computed once per page when following.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

PITCH_BINS = 28  # registers: bins of three semitones from C1 (sheetsync.train.pitch.pitch_bin)
HEAD, SYSTEM = PITCH_BINS, PITCH_BINS + 1  # output channels after the registers
OUTPUTS = PITCH_BINS + 2
REFERENCE_HEIGHT = 400  # the windows below are in pixels of a page this high
# x' - x of the columns each feature group looks at from pixel x: "here" lights a column from two pixels left
# of it to six right; then the columns one, two and three notes back (a note is some 8 to 15 pixels).
WINDOWS = ((-6, 2), (-22, -7), (-40, -16), (-60, -30))
FEATURES = PITCH_BINS * len(WINDOWS) + 1
DILATIONS = (2, 4, 8, 1)
# The match's logits are the query's product with these features times READER_GAIN, the query layer's initial
# weights divided by it (see network): the same start as a gain of one, but Adam's steps, of about the
# learning rate whatever a weight's scale, then move the logits READER_GAIN times further. Without it the
# query needed several hundred steps merely to say "inside a system" (CE stuck near a uniform map's).
READER_GAIN = 64.0
EVIDENCE = 3.0  # summed notehead-register probability that counts as about 1 - 1/e printed
# A system's box spans its staff lines, but notes on ledger lines lie beyond them: noteheads up to LEDGER_REACH
# pixels (of a REFERENCE_HEIGHT page) above or below a system count for its columns, a pixel within reach of
# two systems for the nearer. On 114 validation pieces, reach 0 / 4 / 6 / 9 tracked 88.7 / 93.3 / 93.4 / 93.4% of
# onsets within 0.5 s (pixel F1 0.672 / 0.694 / 0.697 / 0.696): at 0 a tune's notes below or above its staff
# printed nothing, and a system whose first bar lay there seemed to begin after it.
LEDGER_REACH = 6


class NoteReader(nn.Module):
    """(N, 1, H, W) pages -> (N, OUTPUTS, H, W) logits: register bins at noteheads, notehead, inside a system.

    rows: each pixel also sees the strongest features along its whole row (the clef that starts its staff):
    a 1x1 convolution mixes them with its own before the output.
    """

    def __init__(self, width: int = 32, rows: bool = False):
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(1, 16, 3, padding=1), nn.ELU(), nn.Conv2d(16, width, 3, padding=1),
                                   nn.ELU()]
        for dilation in DILATIONS:
            layers += [nn.Conv2d(width, width, 3, padding=dilation, dilation=dilation), nn.GroupNorm(1, width),
                       nn.ELU()]
        if rows:
            self.layers = nn.Sequential(*layers)
            self.rows = nn.Sequential(nn.Conv2d(2 * width, width, 1), nn.ELU())
            self.output = nn.Conv2d(width, OUTPUTS, 1)
        else:  # the layout of the first note-reader checkpoints
            self.layers = nn.Sequential(*layers, nn.Conv2d(width, OUTPUTS, 1))
            self.rows = None

    def forward(self, pages: torch.Tensor) -> torch.Tensor:
        if self.rows is None:
            return self.layers(pages)
        features = self.layers(pages)
        along = features.amax(dim=-1, keepdim=True).expand_as(features)
        return self.output(self.rows(torch.cat([features, along], dim=1)))


def column_features(outputs: torch.Tensor, page_height: int) -> torch.Tensor:
    """(N, FEATURES, H, W) page features from the reader's (N, OUTPUTS, H, W) logits (see the module doc)."""
    registers = torch.sigmoid(outputs[:, :PITCH_BINS]) * torch.sigmoid(outputs[:, HEAD:HEAD + 1])
    inside = outputs[:, SYSTEM:SYSTEM + 1].detach() > 0
    scale = page_height / REFERENCE_HEIGHT
    printed = 1 - torch.exp(-_run_sums(registers, inside, round(LEDGER_REACH * scale)) / EVIDENCE)
    groups = [_window_max(printed, round(low * scale), round(high * scale)) * inside for low, high in WINDOWS]
    return torch.cat(groups + [inside.to(printed.dtype)], dim=1)


def _run_sums(values: torch.Tensor, inside: torch.Tensor, reach: int = 0) -> torch.Tensor:
    """values (N, C, H, W) summed down each column over each vertical run of `inside` (N, 1, H, W) pixels and
    the `reach` pixels above and below it (a pixel within reach of two runs counts for the nearer), the sum
    given to every pixel of the run (0 outside)."""
    above = F.pad(inside[:, :, :-1], (0, 0, 1, 0))
    run = torch.cumsum((inside & ~above).long(), dim=2) * inside  # 1, 2, ... down each column; 0 outside
    reached = run.clone()
    for distance in range(1, reach + 1):  # nearer runs claim a pixel first
        for neighbour in (F.pad(run[:, :, :-distance], (0, 0, distance, 0)),  # the run `distance` rows above
                          F.pad(run[:, :, distance:], (0, 0, 0, distance))):  # and below
            reached = torch.where(reached == 0, neighbour, reached)
    batch, channels, height, width = values.shape
    runs = int(run.max()) + 1
    columns = torch.arange(width, device=values.device)
    into = (reached * width + columns).flatten(2).expand(batch, channels, -1)  # (N, C, H*W) where each pixel adds
    sums = values.new_zeros(batch, channels, runs * width).scatter_add(2, into, values.flatten(2))
    index = (run * width + columns).flatten(2).expand(batch, channels, -1)
    return (sums.gather(2, index).view_as(values)) * inside


def _window_max(values: torch.Tensor, low: int, high: int) -> torch.Tensor:
    """out[..., x] = max of values[..., x + low : x + high + 1] (zeros beyond the page)."""
    size, pad, width = high - low + 1, max(-low, high, 0), values.shape[-1]
    pooled = F.max_pool2d(F.pad(values, (pad, pad)), (1, size), stride=1)
    return pooled[..., low + pad:low + pad + width]
