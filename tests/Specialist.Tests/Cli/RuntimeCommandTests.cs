using System.Text.Json;

namespace Specialist.Tests.Cli;

public class RuntimeCommandTests
{
    private static bool JemallocInstalled => File.Exists("/usr/lib/x86_64-linux-gnu/libjemalloc.so.2");

    [Fact]
    public void DoctorRunsLibTorchOnJemallocWhenInstalled()
    {
        var r = CliRunner.Run("doctor", "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        var facts = JsonDocument.Parse(r.Stdout).RootElement;
        Assert.StartsWith("2.10", facts.GetProperty("libtorch").GetString());
        var allocator = facts.GetProperty("allocator").GetString()!;
        Assert.Equal(JemallocInstalled, allocator.StartsWith("jemalloc"));
        // Page decay off (libtorch's per-step reallocations otherwise fault pages back in), unless the user configured jemalloc.
        if (JemallocInstalled && Environment.GetEnvironmentVariable("MALLOC_CONF") is null)
            Assert.Contains("MALLOC_CONF=dirty_decay_ms:-1,muzzy_decay_ms:-1", allocator);
    }

    [Fact]
    public void AllocatorCanBeForcedToGlibc()
    {
        var r = CliRunner.Run(["--version"], null, TimeSpan.FromMinutes(1), new Dictionary<string, string> { ["SPECIALIST_ALLOCATOR"] = "glibc" });
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("allocator: glibc malloc", r.Stdout);
    }

    [Fact]
    public void UnknownCommandAndOptionAreUsageErrors()
    {
        var r = CliRunner.Run("frobnicate");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("unknown command 'frobnicate'", r.Stderr);
        r = CliRunner.Run("doctor", "--frob", "1");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("unknown option: --frob", r.Stderr);
    }
}
