using System.Diagnostics;
using Specialist.Models;
using TorchSharp;

namespace Specialist.Tests.Models;

public class TorchRuntimeTests
{
    [Fact]
    public void LibTorchLoadsAndMultiplies()
    {
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        var a = torch.tensor(new float[] { 1, 2, 3, 4 }, 2, 2);
        var b = torch.tensor(new float[] { 5, 6, 7, 8 }, 2, 2);
        var c = torch.matmul(a, b);
        Assert.Equal(new float[] { 19, 22, 43, 50 }, c.data<float>().ToArray());
        Assert.StartsWith("2.10", TorchRuntime.LibTorchVersion);
    }

    [Fact]
    public void BuildOutputCopyIsPatchedOnlyWhereTheSystemLacksTheVersion()
    {
        var output = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.True(File.Exists(output), output);
        var systemHasIt = File.Exists("/usr/lib/x86_64-linux-gnu/libstdc++.so.6")
            && File.ReadAllText("/usr/lib/x86_64-linux-gnu/libstdc++.so.6", System.Text.Encoding.Latin1).Contains("GLIBCXX_3.4.32\0");
        var needs = ReadElf("-V", output);
        var line = needs.Split('\n').Single(l => l.Contains("Name: GLIBCXX_3.4.32"));
        Assert.Equal(!systemHasIt, line.Contains("Flags: WEAK"));

        // The NuGet cache copy is never touched.
        var cache = Path.Combine(Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } p ? p
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages"),
            "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        if (File.Exists(cache))
            Assert.Contains("Name: GLIBCXX_3.4.32  Flags: none", ReadElf("-V", cache));
    }

    private static string ReadElf(string flag, string path)
    {
        var psi = new ProcessStartInfo("readelf", [flag, path]) { RedirectStandardOutput = true, UseShellExecute = false };
        using var p = Process.Start(psi)!;
        var text = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
        return text;
    }
}
