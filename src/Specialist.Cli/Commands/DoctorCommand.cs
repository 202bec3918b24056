using System.Reflection;
using System.Runtime.InteropServices;
using Specialist.Data;
using Specialist.Models;

namespace Specialist.Cli.Commands;

/// <summary><c>specialist doctor</c> (and <c>--version</c>): the version and what this process runs on.</summary>
internal static class DoctorCommand
{
    public static string Version =>
        typeof(DoctorCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    public static int Run(string[] args)
    {
        var a = CommandArgs.Parse(args, "json");
        var json = a.Flag("json");
        var root = DataRoot.Resolve(a.Get("data-root"));
        a.EnsureAllUsed();
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
            return 0;
        }
        foreach (var (k, v) in facts) Console.WriteLine($"{k,-18} {v}");
        return 0;
    }
}
