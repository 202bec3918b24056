using System.Text.Json;
using System.Text.Json.Nodes;
using Specialist.Benchmarks;

namespace Specialist.Tests.Benchmarks;

/// <summary>The load readings every <c>specialist bench</c> prints and adds to its JSON (<see cref="MachineLoad"/>).</summary>
public class MachineLoadTests
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    // A benchmark's figures as the bench commands serialise them, with the readings added.
    private static JsonObject Figures(MachineLoad load) =>
        load.AddTo(JsonSerializer.SerializeToNode(new DecodeFigure("fp32", 8, true, 128, 42.5), Json)!.AsObject());

    [Fact]
    public void A_load_above_the_limit_before_the_measurement_marks_the_figures_as_taken_under_load()
    {
        var readings = new Queue<double?>([2.4, 0.3]);
        var load = MachineLoad.Start(() => readings.Dequeue())();
        Assert.Equal(2.4, load.Before);
        Assert.Equal(0.3, load.After);
        Assert.True(load.UnderLoad);
        Assert.Equal("load average 2.40 > 1.5: figures taken under load, not quotable", load.Warning);

        var json = Figures(load);
        Assert.True(json["under_load"]!.GetValue<bool>());
        Assert.Equal(2.4, json["load_average_before"]!.GetValue<double>());
        Assert.Equal(0.3, json["load_average_after"]!.GetValue<double>());
        Assert.Equal(42.5, json["tokens_per_second"]!.GetValue<double>()); // the figures themselves are kept
    }

    [Fact]
    public void A_load_above_the_limit_after_marks_them_unless_the_benchmarks_own_threads_account_for_it()
    {
        Assert.True(new MachineLoad(0.2, 2.0, 0.3).UnderLoad); // others: 1.7
        var own = new MachineLoad(0.2, 2.0, 1.2); // others: 0.8
        Assert.False(own.UnderLoad);
        Assert.Null(own.Warning);
        Assert.False(Figures(own)["under_load"]!.GetValue<bool>());
        Assert.Equal(1.2, Figures(own)["load_average_own"]!.GetValue<double>());
    }

    [Fact]
    public void An_idle_machine_or_an_unknown_load_leaves_the_figures_quotable()
    {
        var idle = MachineLoad.Start(() => 0.4)();
        Assert.False(idle.UnderLoad);
        Assert.Contains("load average 0.40 before, 0.40 after", idle.Summary);
        var unknown = MachineLoad.Start(() => null)();
        Assert.False(unknown.UnderLoad);
        Assert.Null(Figures(unknown)["load_average_before"]);
        Assert.False(Figures(unknown)["under_load"]!.GetValue<bool>());
    }

    [Fact]
    public void This_machine_has_a_load_average_to_read()
    {
        if (!File.Exists("/proc/loadavg")) return;
        Assert.InRange(MachineLoad.ReadLoadAverage()!.Value, 0, 10_000);
    }
}
