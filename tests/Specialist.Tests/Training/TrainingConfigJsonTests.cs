using Specialist.Training;

namespace Specialist.Tests.Training;

/// <summary>The run folder's <c>config.json</c> keeps its shape: every key, in order, snake_case, as earlier versions wrote it.</summary>
public sealed class TrainingConfigJsonTests
{
    [Fact]
    public void Config_json_has_the_same_keys_order_and_values_as_before()
    {
        var config = new TrainingConfig
        {
            Student = "/s", Data = "/d", Out = "/o", Loss = LossKind.Distribution, Formats = ["ic-cot", "zs-ao"], Lr = 5e-4,
            Schedule = ScheduleKind.Linear, LrHorizon = ScheduleHorizon.MicroSteps, Steps = 30,
            BatchSize = new Dictionary<string, int> { ["zs-ao"] = 60, ["*"] = 8, ["ic-cot"] = 25 },
            EvalSets = ["gsm8k-dev", "svamp-dev", "asdiv-dev"], OodSets = ["svamp-dev"], EvalLimit = 5, Seed = 7, Threads = 2,
            MaxTargetLen = 128, LengthPieces = 4, Replay = "/gold", ReplayShare = 0.25, DataRoot = "/data \"root\"",
        };
        const string expected = """
            {
              "student": "/s",
              "data": "/d",
              "out": "/o",
              "loss": "distribution",
              "formats": [
                "ic-cot",
                "zs-ao"
              ],
              "lr": 0.0005,
              "warmup": 10,
              "schedule": "linear",
              "lr_horizon": "micro-steps",
              "epochs": 10,
              "steps": 30,
              "grad_accum": 1,
              "batch_size": {
                "*": 8,
                "ic-cot": 25,
                "zs-ao": 60
              },
              "max_grad_norm": 1,
              "weight_decay": 0.01,
              "eval_every": 500,
              "eval_sets": [
                "gsm8k-dev",
                "svamp-dev",
                "asdiv-dev"
              ],
              "id_set": "gsm8k-dev",
              "eval_limit": 5,
              "eval_prompt": "4shot",
              "eval_max_new_tokens": 256,
              "eval_batch_size": 16,
              "save_every": null,
              "keep_last": 2,
              "data_root": "/data \u0022root\u0022",
              "seed": 7,
              "device": "cpu",
              "dtype": "fp32",
              "threads": 2,
              "max_source_len": null,
              "max_target_len": 128,
              "length_pieces": 4,
              "ood_sets": [
                "svamp-dev"
              ],
              "replay": "/gold",
              "replay_share": 0.25
            }

            """;
        Assert.Equal(expected.Replace("\r\n", "\n"), config.ToJson());
        // An empty batch_size and unset OOD sets are written as an empty object and an empty list.
        var plain = TrainingConfig.Defaults.ToJson();
        Assert.Contains("\"batch_size\": {}", plain);
        Assert.Contains("\"ood_sets\": []", plain);
        Assert.Contains("\"loss\": \"sample\"", plain);
        Assert.Contains("\"schedule\": \"cosine\"", plain);
        Assert.Contains("\"lr_horizon\": \"steps\"", plain);
        Assert.Contains("\"length_pieces\": 1", plain);
    }
}
