#!/usr/bin/env bash
# The main job from a fresh checkout: every stage that exists, end to end, on real data.
# Until `specialist run` exists this is: a random-init T5 in Hugging Face layout -> the paper's 4-shot GSM8K test
# prompts -> batched greedy generation -> scoring against the gold answers. A random model scores about 0; the
# point is that the pipeline runs on real files a user can open, in out/main-job/.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${SPECIALIST_DATA:-../shared/data}
out=${OUT:-out/main-job}
mkdir -p "$out"

dotnet build src/Specialist.Cli -c Release -v quiet -nologo
./specialist doctor --data-root "$data"
./specialist data stats gsm8k-test --data-root "$data"
./specialist model init --config tiny --tokenizer "$data/tokenizers/t5/spiece.model" --out "$out/model" --seed 0
./specialist data prompts gsm8k-test --data-root "$data" --prompt 4shot --limit 20 --out "$out/prompts.jsonl"
./specialist generate --model "$out/model" --input "$out/prompts.jsonl" --max-new-tokens 64 --batch-size 10 --json > "$out/predictions.jsonl"
./specialist score gsm8k-test --data-root "$data" --predictions "$out/predictions.jsonl"
echo "files: $out/ (model/, prompts.jsonl, predictions.jsonl)"
