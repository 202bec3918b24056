#!/usr/bin/env python3
"""Records Hugging Face transformers' T5 outputs so Specialist's TorchSharp T5 can be checked against them.

Run where Python has torch, transformers and safetensors (e.g. a GPU machine; CPU is enough):

    python3 tools/parity/make_fixture.py --out tests/Specialist.Tests/Models/parity-fixture

For T5 v1.0 (relu, tied embeddings) and v1.1 / FlanT5 (gated-gelu, untied lm_head) it builds a small random-init
model with a fixed seed, saves it in the HF layout (config.json + model.safetensors) and writes expected.json:
fixed encoder inputs (a padded batch), the encoder's last hidden state, the logits for fixed decoder inputs, and
greedy generations. Vocabulary and widths are small so the whole fixture stays far under 2 MB.
The test Specialist.Tests.Models.HfParityTests loads each model with our code and compares; then run
tools/parity/exact_fp64.py on each folder for the exact fp64 outputs it also needs (see
tests/Specialist.Tests/Models/parity-fixture/README.md).
"""
import argparse
import json
import os

import torch
from transformers import T5Config, T5ForConditionalGeneration

CONFIGS = {
    "t5-v1_0": dict(feed_forward_proj="relu", tie_word_embeddings=True),
    "t5-v1_1": dict(feed_forward_proj="gated-gelu", tie_word_embeddings=False),
}


def build(name, overrides, out_dir, seed):
    torch.manual_seed(seed)
    config = T5Config(
        vocab_size=384, d_model=32, d_kv=8, d_ff=48, num_layers=2, num_decoder_layers=2, num_heads=4,
        relative_attention_num_buckets=32, relative_attention_max_distance=128, dropout_rate=0.0,
        layer_norm_epsilon=1e-6, pad_token_id=0, eos_token_id=1, decoder_start_token_id=0, **overrides)
    model = T5ForConditionalGeneration(config).eval()
    # HF's init gives tiny logits at this width; widen the weights so greedy decoding is not decided by rounding.
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(3.0 if p.dim() > 1 else 1.0)
    model.save_pretrained(out_dir, safe_serialization=True)

    g = torch.Generator().manual_seed(seed + 1)
    input_ids = torch.randint(3, config.vocab_size, (3, 11), generator=g)
    attention_mask = torch.ones_like(input_ids)
    for row, length in enumerate([11, 7, 4]):  # right padding, as Specialist batches
        input_ids[row, length:] = config.pad_token_id
        attention_mask[row, length:] = 0
        input_ids[row, length - 1] = config.eos_token_id
    decoder_input_ids = torch.randint(3, config.vocab_size, (3, 6), generator=g)
    decoder_input_ids[:, 0] = config.decoder_start_token_id

    with torch.no_grad():
        encoder = model.get_encoder()(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        logits = model(input_ids=input_ids, attention_mask=attention_mask, decoder_input_ids=decoder_input_ids).logits
        greedy = model.generate(input_ids=input_ids, attention_mask=attention_mask, max_new_tokens=12, do_sample=False,
                                num_beams=1, min_length=0)

    expected = {
        "model": name,
        "seed": seed,
        "transformers": __import__("transformers").__version__,
        "torch": torch.__version__,
        "input_ids": input_ids.tolist(),
        "attention_mask": attention_mask.tolist(),
        "decoder_input_ids": decoder_input_ids.tolist(),
        "encoder_last_hidden_state": {"shape": list(encoder.shape), "data": encoder.flatten().tolist()},
        "logits": {"shape": list(logits.shape), "data": logits.flatten().tolist()},
        # generate() starts with decoder_start_token_id; drop it so rows hold generated tokens only.
        "greedy_max_new_tokens": 12,
        "greedy": [row[1:].tolist() for row in greedy],
    }
    with open(os.path.join(out_dir, "expected.json"), "w") as f:
        json.dump(expected, f)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="tests/Specialist.Tests/Models/parity-fixture")
    parser.add_argument("--seed", type=int, default=1234)
    args = parser.parse_args()
    for i, (name, overrides) in enumerate(CONFIGS.items()):
        out_dir = os.path.join(args.out, name)
        os.makedirs(out_dir, exist_ok=True)
        build(name, overrides, out_dir, args.seed + 10 * i)
        print("wrote", out_dir)


if __name__ == "__main__":
    main()
