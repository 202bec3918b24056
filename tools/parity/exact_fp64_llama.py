#!/usr/bin/env python3
"""Adds exact fp64 outputs to a Llama or Qwen2 parity fixture (hf-llama-parity, hf-qwen2-parity), for LlamaParityTests.

Needs only torch (Debian 12's python3-torch, the build that made the fixtures; transformers is not needed):

    /usr/bin/python3 tools/parity/exact_fp64_llama.py tests/Specialist.Tests/Models/parity-fixture/llama ...

Why: as for T5 (see exact_fp64.py), transformers rounds to fp32 inside an fp64 model: LlamaRMSNorm casts the hidden
states to fp32 (`hidden_states.to(torch.float32)`), the rotary table is computed in fp32 and cast, the attention
softmax runs in fp32 (`softmax(..., dtype=torch.float32)`), and LlamaForCausalLM / Qwen2ForCausalLM return
`logits.float()`. So its `*_fp64` outputs carry fp32 rounding, and only outputs computed in fp64 throughout can be
reproduced to 1e-9 by another implementation.

How: the forward pass below is transformers 4.36.2's modeling_llama.py (4.37.2's modeling_qwen2.py is the same with
q/k/v biases) with eager attention, written out operation for operation. Before writing anything it recomputes the
fixture's fp32 outputs (the padded batch) and, with transformers' fp32 roundings, its fp64 outputs (each row alone,
without its padding), and stops unless they equal expected.json exactly (difference 0). Then it drops the roundings
and writes exact_fp64.json beside expected.json, laid out as the fixture's fp64 outputs: each row computed alone,
padded positions 0.
"""
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

from exact_fp64 import as_tensor, load_safetensors, max_rel_diff, require_exact, write_exact


class Llama:
    """transformers' LlamaForCausalLM / Qwen2ForCausalLM forward pass; hf_roundings=True keeps its casts to fp32."""

    def __init__(self, folder, dtype, hf_roundings):
        self.config = json.load(open(os.path.join(folder, "config.json")))
        self.weights = {k: v.to(dtype) for k, v in load_safetensors(os.path.join(folder, "model.safetensors")).items()}
        if "lm_head.weight" not in self.weights:  # tied
            self.weights["lm_head.weight"] = self.weights["model.embed_tokens.weight"]
        self.dtype = dtype
        self.hf_roundings = hf_roundings
        c = self.config
        self.heads = c["num_attention_heads"]
        self.kv_heads = c["num_key_value_heads"]
        self.head_dim = c["hidden_size"] // self.heads
        self.eps = c["rms_norm_eps"]

    def linear(self, name, x):
        return F.linear(x, self.weights[name + ".weight"], self.weights.get(name + ".bias"))

    def norm(self, name, hidden):  # LlamaRMSNorm
        wide = hidden.to(torch.float32) if self.hf_roundings else hidden
        variance = wide.pow(2).mean(-1, keepdim=True)
        wide = wide * torch.rsqrt(variance + self.eps)
        return self.weights[name + ".weight"] * wide.to(hidden.dtype)

    def rotary(self, seq_len):  # LlamaRotaryEmbedding's cos/sin cache
        wide = torch.float32 if self.hf_roundings else torch.float64
        inv_freq = 1.0 / (self.config["rope_theta"] ** (torch.arange(0, self.head_dim, 2).to(wide) / self.head_dim))
        t = torch.arange(seq_len, dtype=wide)
        freqs = torch.outer(t, inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos().to(self.dtype), emb.sin().to(self.dtype)

    @staticmethod
    def rotate_half(x):
        x1 = x[..., : x.shape[-1] // 2]
        x2 = x[..., x.shape[-1] // 2:]
        return torch.cat((-x2, x1), dim=-1)

    def mask(self, attention_mask):  # _prepare_4d_causal_attention_mask, no cache
        bsz, length = attention_mask.shape
        low = torch.finfo(self.dtype).min
        causal = torch.full((length, length), low, dtype=self.dtype)  # the fixture was made with the default dtype set to the model's
        cond = torch.arange(length)
        causal.masked_fill_(cond < (cond + 1).view(length, 1), 0)
        causal = causal.to(self.dtype)[None, None, :, :].expand(bsz, 1, length, length)
        expanded = attention_mask[:, None, None, :].expand(bsz, 1, length, length).to(self.dtype)
        inverted = 1.0 - expanded
        inverted = inverted.masked_fill(inverted.to(torch.bool), low)
        return causal.masked_fill(inverted.bool(), low)

    def attention(self, p, hidden, cos, sin, position_ids, mask):
        bsz, length, _ = hidden.shape
        q = self.linear(p + "q_proj", hidden).view(bsz, length, self.heads, self.head_dim).transpose(1, 2)
        k = self.linear(p + "k_proj", hidden).view(bsz, length, self.kv_heads, self.head_dim).transpose(1, 2)
        v = self.linear(p + "v_proj", hidden).view(bsz, length, self.kv_heads, self.head_dim).transpose(1, 2)
        c = cos[:length].to(dtype=v.dtype)[position_ids].unsqueeze(1)
        s = sin[:length].to(dtype=v.dtype)[position_ids].unsqueeze(1)
        q = (q * c) + (self.rotate_half(q) * s)
        k = (k * c) + (self.rotate_half(k) * s)
        groups = self.heads // self.kv_heads
        k = k[:, :, None, :, :].expand(bsz, self.kv_heads, groups, length, self.head_dim).reshape(bsz, self.heads, length, self.head_dim)
        v = v[:, :, None, :, :].expand(bsz, self.kv_heads, groups, length, self.head_dim).reshape(bsz, self.heads, length, self.head_dim)
        weights = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(self.head_dim)
        weights = weights + mask
        if self.hf_roundings:
            weights = F.softmax(weights, dim=-1, dtype=torch.float32).to(q.dtype)
        else:
            weights = F.softmax(weights, dim=-1)
        out = torch.matmul(weights, v).transpose(1, 2).contiguous().reshape(bsz, length, self.heads * self.head_dim)
        return self.linear(p + "o_proj", out)

    def forward(self, input_ids, attention_mask, position_ids):
        hidden = F.embedding(input_ids, self.weights["model.embed_tokens.weight"])
        cos, sin = self.rotary(self.config["max_position_embeddings"])
        mask = self.mask(attention_mask)
        for i in range(self.config["num_hidden_layers"]):
            p = f"model.layers.{i}."
            residual = hidden
            hidden = residual + self.attention(p + "self_attn.", self.norm(p + "input_layernorm", hidden), cos, sin, position_ids, mask)
            residual = hidden
            x = self.norm(p + "post_attention_layernorm", hidden)
            hidden = residual + self.linear(p + "mlp.down_proj", F.silu(self.linear(p + "mlp.gate_proj", x)) * self.linear(p + "mlp.up_proj", x))
        hidden = self.norm("model.norm", hidden)
        logits = F.linear(hidden, self.weights["lm_head.weight"])
        return hidden, (logits.float() if self.hf_roundings else logits)

    def rows_alone(self, input_ids, attention_mask):
        """Each row without its padding, placed back at its positions (padded ones 0), as the fixture's *_fp64."""
        bsz, length = input_ids.shape
        hidden = torch.zeros(bsz, length, self.config["hidden_size"], dtype=torch.float64)
        logits = torch.zeros(bsz, length, self.config["vocab_size"], dtype=torch.float64)
        for b in range(bsz):
            real = attention_mask[b].bool()
            ids = input_ids[b][real][None, :]
            n = ids.shape[1]
            h, l = self.forward(ids, torch.ones_like(ids), torch.arange(n)[None, :])
            hidden[b, real] = h[0].double()
            logits[b, real] = l[0].double()
        return hidden, logits


def masked_rel_diff(expected, got, attention_mask):
    keep = attention_mask.bool()
    return max_rel_diff(expected[keep], got[keep])


def main():
    torch.set_grad_enabled(False)
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    for folder in sys.argv[1:]:
        expected = json.load(open(os.path.join(folder, "expected.json")))
        input_ids = torch.tensor(expected["input_ids"])
        attention_mask = torch.tensor(expected["attention_mask"])
        position_ids = torch.tensor(expected["position_ids"])
        hidden, logits = Llama(folder, torch.float32, hf_roundings=True).forward(input_ids, attention_mask, position_ids)
        checks = [("last_hidden_state", hidden), ("logits", logits)]
        hidden64, logits64 = Llama(folder, torch.float64, hf_roundings=True).rows_alone(input_ids, attention_mask)
        checks += [("last_hidden_state_fp64", hidden64), ("logits_fp64", logits64)]
        for key, got in checks:
            require_exact(folder, key, masked_rel_diff(as_tensor(expected[key]), got, attention_mask))
        hidden, logits = Llama(folder, torch.float64, hf_roundings=False).rows_alone(input_ids, attention_mask)
        exact = {
            "made_by": "tools/parity/exact_fp64_llama.py",
            "torch": torch.__version__,
            "checked": "recomputed fp32 (padded batch) and fp64 (rows alone, with transformers' fp32 roundings) outputs equal expected.json exactly where attention_mask is 1",
            "last_hidden_state": {"shape": list(hidden.shape), "data": hidden.flatten().tolist()},
            "logits": {"shape": list(logits.shape), "data": logits.flatten().tolist()},
            "transformers_fp64_vs_exact_max_rel_diff": max(
                masked_rel_diff(as_tensor(expected["last_hidden_state_fp64"]), hidden, attention_mask),
                masked_rel_diff(as_tensor(expected["logits_fp64"]), logits, attention_mask)),
        }
        write_exact(folder, exact)


if __name__ == "__main__":
    main()
