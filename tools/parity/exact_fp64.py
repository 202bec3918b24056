#!/usr/bin/env python3
"""Adds exact fp64 outputs to a T5 parity fixture made by make_fixture.py, for the fp64 check of HfParityTests.

Needs only torch (Debian 12's python3-torch is enough; transformers is not needed):

    python3 tools/parity/exact_fp64.py tests/Specialist.Tests/Models/parity-fixture/t5-v1_0 ...

Why: transformers' T5 rounds two things to fp32 even when the model runs in fp64 (the layer norm's mean square,
`hidden_states.to(torch.float32)`, and the attention softmax, `softmax(scores.float())`), so its fp64 outputs
(`*_fp64` in expected.json) carry fp32 rounding, and that rounding depends on the torch build: libtorch 2.10's
fp32 softmax kernel rounds differently from torch 1.13's, which made the fixture. Only outputs computed in fp64
throughout are reproducible to 1e-9 by another implementation.

How: the forward pass below is transformers 4.36.2's modeling_t5.py (T5ForConditionalGeneration without dropout,
cache or head masks) written out operation for operation. Before writing anything it recomputes the fixture's
fp32 outputs and, with transformers' two fp32 roundings, its fp64 outputs, and stops unless both equal
expected.json exactly (difference 0) -- so the code is transformers' computation on this fixture, not a reading of
it. Then it drops the two roundings and writes exact_fp64.json beside expected.json: the encoder's last hidden
state and the logits computed in fp64 throughout, and how far transformers' fp64 outputs are from them.
"""
import json
import math
import os
import struct
import sys

import torch


def load_safetensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    n = struct.unpack("<Q", blob[:8])[0]
    header = json.loads(blob[8:8 + n])
    data = blob[8 + n:]
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if entry["dtype"] != "F32":
            raise SystemExit(f"{path}: {name} is {entry['dtype']}, expected F32")
        start, end = entry["data_offsets"]
        tensors[name] = torch.frombuffer(bytearray(data[start:end]), dtype=torch.float32).reshape(entry["shape"]).clone()
    return tensors


class T5:
    """transformers 4.36.2's T5 forward pass; fp32_roundings=True keeps its two casts to fp32."""

    def __init__(self, folder, dtype, fp32_roundings):
        self.config = json.load(open(os.path.join(folder, "config.json")))
        self.weights = {k: v.to(dtype) for k, v in load_safetensors(os.path.join(folder, "model.safetensors")).items()}
        self.dtype = dtype
        self.fp32_roundings = fp32_roundings
        self.heads = self.config["num_heads"]
        self.d_kv = self.config["d_kv"]

    def layer_norm(self, name, hidden):  # T5LayerNorm
        squares = hidden.to(torch.float32) if self.fp32_roundings else hidden
        variance = squares.pow(2).mean(-1, keepdim=True)
        return self.weights[name] * (hidden * torch.rsqrt(variance + self.config["layer_norm_epsilon"]))

    def linear(self, name, x):
        return x @ self.weights[name].t()

    def bucket(self, relative_position, bidirectional):  # T5Attention._relative_position_bucket
        num_buckets = self.config["relative_attention_num_buckets"]
        max_distance = self.config["relative_attention_max_distance"]
        buckets = 0
        if bidirectional:
            num_buckets //= 2
            buckets += (relative_position > 0).to(torch.long) * num_buckets
            relative_position = torch.abs(relative_position)
        else:
            relative_position = -torch.min(relative_position, torch.zeros_like(relative_position))
        max_exact = num_buckets // 2
        is_small = relative_position < max_exact
        large = max_exact + (torch.log(relative_position.float() / max_exact) / math.log(max_distance / max_exact)
                             * (num_buckets - max_exact)).to(torch.long)
        large = torch.min(large, torch.full_like(large, num_buckets - 1))
        return buckets + torch.where(is_small, relative_position, large)

    def position_bias(self, prefix, queries, keys, bidirectional):  # T5Attention.compute_bias
        relative = torch.arange(keys)[None, :] - torch.arange(queries)[:, None]
        table = self.weights[prefix + "relative_attention_bias.weight"]
        return torch.nn.functional.embedding(self.bucket(relative, bidirectional), table).permute([2, 0, 1]).unsqueeze(0)

    def attention(self, prefix, hidden, source, bias):  # T5Attention.forward
        batch = hidden.shape[0]

        def heads(x):
            return x.view(batch, -1, self.heads, self.d_kv).transpose(1, 2)

        q = heads(self.linear(prefix + "q.weight", hidden))
        k = heads(self.linear(prefix + "k.weight", source))
        v = heads(self.linear(prefix + "v.weight", source))
        scores = torch.matmul(q, k.transpose(3, 2))
        scores += bias
        weights = torch.nn.functional.softmax(scores.float() if self.fp32_roundings else scores, dim=-1).type_as(scores)
        context = torch.matmul(weights, v).transpose(1, 2).contiguous().view(batch, -1, self.heads * self.d_kv)
        return self.linear(prefix + "o.weight", context)

    def feed_forward(self, prefix, hidden):  # T5DenseActDense / T5DenseGatedActDense
        if not self.config.get("is_gated_act", False):
            return self.linear(prefix + "wo.weight", torch.relu(self.linear(prefix + "wi.weight", hidden)))
        gate = self.linear(prefix + "wi_0.weight", hidden)
        gate = 0.5 * gate * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (gate + 0.044715 * torch.pow(gate, 3.0))))  # gelu_new
        return self.linear(prefix + "wo.weight", gate * self.linear(prefix + "wi_1.weight", hidden))

    def padding_bias(self, mask):  # get_extended_attention_mask / invert_attention_mask
        return ((1.0 - mask.to(self.dtype)) * torch.finfo(self.dtype).min)[:, None, None, :]

    def encode(self, input_ids, mask):
        hidden = torch.nn.functional.embedding(input_ids, self.weights["shared.weight"])
        length = input_ids.shape[1]
        bias = self.position_bias("encoder.block.0.layer.0.SelfAttention.", length, length, True) + self.padding_bias(mask)
        for i in range(self.config["num_layers"]):
            p = f"encoder.block.{i}.layer."
            normed = self.layer_norm(p + "0.layer_norm.weight", hidden)
            hidden = hidden + self.attention(p + "0.SelfAttention.", normed, normed, bias)
            hidden = hidden + self.feed_forward(p + "1.DenseReluDense.", self.layer_norm(p + "1.layer_norm.weight", hidden))
        return self.layer_norm("encoder.final_layer_norm.weight", hidden)

    def forward(self, input_ids, mask, decoder_input_ids):
        encoded = self.encode(input_ids, mask)
        hidden = torch.nn.functional.embedding(decoder_input_ids, self.weights["shared.weight"])
        length = decoder_input_ids.shape[1]
        causal = (torch.arange(length)[None, :] <= torch.arange(length)[:, None]).to(self.dtype)[None, None]
        self_bias = self.position_bias("decoder.block.0.layer.0.SelfAttention.", length, length, False) \
            + (1.0 - causal) * torch.finfo(self.dtype).min
        cross_bias = torch.zeros(1, self.heads, length, input_ids.shape[1], dtype=self.dtype) + self.padding_bias(mask)
        for i in range(self.config["num_decoder_layers"]):
            p = f"decoder.block.{i}.layer."
            normed = self.layer_norm(p + "0.layer_norm.weight", hidden)
            hidden = hidden + self.attention(p + "0.SelfAttention.", normed, normed, self_bias)
            hidden = hidden + self.attention(p + "1.EncDecAttention.", self.layer_norm(p + "1.layer_norm.weight", hidden), encoded, cross_bias)
            hidden = hidden + self.feed_forward(p + "2.DenseReluDense.", self.layer_norm(p + "2.layer_norm.weight", hidden))
        hidden = self.layer_norm("decoder.final_layer_norm.weight", hidden)
        if self.config.get("tie_word_embeddings", True):
            return encoded, (hidden * self.config["d_model"] ** -0.5) @ self.weights["shared.weight"].t()
        return encoded, hidden @ self.weights["lm_head.weight"].t()


def as_tensor(entry):
    return torch.tensor(entry["data"], dtype=torch.float64).view(entry["shape"])


def max_rel_diff(a, b):  # relative to max(1, |a|), as the fixture README measures
    return ((a - b.double()).abs() / a.abs().clamp_min(1)).max().item()


def require_exact(folder, key, diff):
    """Stops unless a recomputed output equals the fixture's exactly."""
    if diff != 0:
        raise SystemExit(f"{folder}: recomputed {key} differs from expected.json by {diff:.3e}: "
                         "this is not transformers' computation (or not the torch build that made the fixture)")


def write_exact(folder, exact):
    with open(os.path.join(folder, "exact_fp64.json"), "w") as f:
        json.dump(exact, f)
    print("wrote", os.path.join(folder, "exact_fp64.json"), "transformers fp64 vs exact:", exact["transformers_fp64_vs_exact_max_rel_diff"])


def main():
    torch.set_grad_enabled(False)
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    for folder in sys.argv[1:]:
        expected = json.load(open(os.path.join(folder, "expected.json")))
        inputs = [torch.tensor(expected[k]) for k in ("input_ids", "attention_mask", "decoder_input_ids")]
        for dtype, suffix in ((torch.float32, ""), (torch.float64, "_fp64")):
            encoded, logits = T5(folder, dtype, fp32_roundings=True).forward(*inputs)
            for key, got in (("encoder_last_hidden_state", encoded), ("logits", logits)):
                require_exact(folder, key + suffix, max_rel_diff(as_tensor(expected[key + suffix]), got))
        encoded, logits = T5(folder, torch.float64, fp32_roundings=False).forward(*inputs)
        exact = {
            "made_by": "tools/parity/exact_fp64.py",
            "torch": torch.__version__,
            "checked": "recomputed fp32 and fp64 (with transformers' fp32 roundings) outputs equal expected.json exactly",
            "encoder_last_hidden_state": {"shape": list(encoded.shape), "data": encoded.flatten().tolist()},
            "logits": {"shape": list(logits.shape), "data": logits.flatten().tolist()},
            "transformers_fp64_vs_exact_max_rel_diff": max(
                max_rel_diff(as_tensor(expected["encoder_last_hidden_state_fp64"]), encoded),
                max_rel_diff(as_tensor(expected["logits_fp64"]), logits)),
        }
        write_exact(folder, exact)


if __name__ == "__main__":
    main()
