using System.CommandLine;
using System.Reflection;
using System.Runtime.InteropServices;
using Specialist.Models;

namespace Specialist.Cli.Commands;

/// <summary><c>specialist doctor</c> (and <c>--version</c>): the version and what this process runs on.</summary>
internal static class DoctorCommand
{
    public static string Version =>
        typeof(DoctorCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    public static Command Create()
    {
        var json = CliOptions.Json();
        var command = new Command("doctor", "show the runtime: version, allocator, libtorch (cpu or cuda build) and its CUDA devices, data root") { json };
        var data = new DataArgs(command, customSet: false);
        command.SetAction(parsed => Run(data.Root(parsed), parsed.GetValue(json)));
        return command;
    }

    private static void Run(string root, bool json)
    {
        var facts = new Dictionary<string, object?>
        {
            ["version"] = Version,
            ["dotnet"] = RuntimeInformation.FrameworkDescription,
            ["os"] = RuntimeInformation.OSDescription,
            ["cores"] = Environment.ProcessorCount,
            ["allocator"] = Allocator.Current(),
            ["libtorch"] = TorchRuntime.LibTorchVersion,
            ["torch_threads"] = TorchRuntime.Threads,
            // Which libtorch the build references (cpu or cuda, README "Devices"), and the CUDA devices it sees.
            ["libtorch_flavour"] = TorchRuntime.Flavour,
            ["cuda_available"] = TorchRuntime.CudaAvailable,
            ["cuda_devices"] = TorchRuntime.CudaDeviceCount,
            ["data_root"] = root,
            ["data_root_exists"] = Directory.Exists(root),
        };
        if (json)
        {
            Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(facts));
            return;
        }
        foreach (var (k, v) in facts) Console.WriteLine($"{k,-18} {v}");
    }
}
