"""The audio-conditioned U-Net of Henkel, Kelz & Widmer (ISMIR 2020) and its checkpoints.

config.py        ModelConfig: the paper's "CB" system by default, "FB" and "NTC" ablations
film.py          FiLM: gamma(z) * x + beta(z)
encoders.py      spectrogram window -> embedding ("CB" conv encoder, "FB" frame encoder)
conditioning.py  the audio path: normalise, encode, LSTM -> z; LSTM state helpers
unet.py          the page U-Net, block A separable from the conditioned rest
reader.py        the note reader: the other page path (noteheads and registers, then a fixed column layout)
network.py       ScoreFollower: sequence forward for training; prepare_page/step/predict for following
checkpoint.py    save/load: safetensors weights + JSON record
"""
