using System.Text.Json;
using Specialist.Models;
using Specialist.Tests.Training;
using TorchSharp;

namespace Specialist.Tests.Models;

/// <summary>
/// Devices on the default build, the one this suite runs on: it references the CPU libtorch, so every command asked for
/// CUDA must refuse with a message that names the build switch, and doctor must say so. (The CUDA build is not tested
/// here: README, "Devices".)
/// </summary>
public class DeviceTests
{
    [Fact]
    public void TheDefaultBuildIsTheCpuFlavourAndRefusesCudaNamingTheSwitch()
    {
        Assert.Equal("cpu", TorchRuntime.Flavour);
        Assert.Equal(DeviceType.CPU, TorchRuntime.ResolveDevice("cpu").type);
        foreach (var name in new[] { "cuda", "cuda:0", "cuda:1" })
        {
            var error = Assert.Throws<SpecialistException>(() => TorchRuntime.ResolveDevice(name));
            Assert.Contains($"device '{name}': this build references the CPU-only libtorch", error.Message);
            Assert.Contains("dotnet build -c Release -p:Torch=cuda", error.Message);
        }
    }

    [Theory]
    [InlineData("cpu", true)]
    [InlineData("cuda", true)]
    [InlineData("cuda:3", true)]
    [InlineData("gpu", false)]
    [InlineData("cuda:", false)]
    [InlineData("cuda:-1", false)]
    [InlineData("CPU", false)]
    public void DeviceNames(string name, bool valid)
    {
        Assert.Equal(valid, TorchRuntime.IsDeviceName(name));
        if (!valid) Assert.Contains("use cpu, cuda or cuda:N", Assert.Throws<SpecialistException>(() => TorchRuntime.ResolveDevice(name)).Message);
    }

    [Fact]
    public void DoctorReportsTheFlavourAndTheDevicesItSees()
    {
        var r = CliRunner.Run("doctor", "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        var facts = JsonDocument.Parse(r.Stdout).RootElement;
        Assert.Equal("cpu", facts.GetProperty("libtorch_flavour").GetString());
        Assert.False(facts.GetProperty("cuda_available").GetBoolean());
        Assert.Equal(0, facts.GetProperty("cuda_devices").GetInt32());
    }

    [Fact]
    public void TrainGenerateEvalAndServeRefuseCudaNamingTheSwitch()
    {
        var run = Path.Combine(TestPaths.NewTempDir(), "run");
        var student = TrainingTestKit.Student;
        string[][] commands =
        [
            ["train", .. TrainingTestKit.QuickOptions(TrainingTestKit.GoldSet, run), "--steps", "2", "--device", "cuda"],
            ["generate", "--model", student, "--prompt", "Q: 1 + 1?", "--device", "cuda"],
            ["eval", "--model", student, "--sets", "gsm8k-test", "--limit", "1", "--out", Path.Combine(TestPaths.NewTempDir(), "eval"), "--data-root", TestPaths.DataRoot, "--device", "cuda"],
            ["serve", "--model", student, "--port", "0", "--device", "cuda"],
        ];
        foreach (var command in commands)
        {
            var r = CliRunner.Run(command);
            Assert.True(r.ExitCode == 1, $"{command[0]}: {r}");
            Assert.Contains("device 'cuda': this build references the CPU-only libtorch", r.Stderr);
            Assert.Contains("-p:Torch=cuda", r.Stderr);
        }
        // Refused before the run folder was written: nothing to resume or clean up.
        Assert.False(File.Exists(Path.Combine(run, "config.json")));
    }
}
