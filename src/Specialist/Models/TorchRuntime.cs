using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using TorchSharp;

namespace Specialist.Models;

/// <summary>
/// Loads libtorch once, says what it runs on, chooses the device every command runs on (<see cref="ResolveDevice"/>,
/// the only place that does), and hands freed memory back.
/// </summary>
public static class TorchRuntime
{
    /// <summary>The MSBuild switch that builds against the CUDA libtorch (README, "Devices").</summary>
    public const string CudaBuildSwitch = "-p:Torch=cuda";

    /// <summary>The device commands run on unless told otherwise.</summary>
    public const string DefaultDeviceName = "cpu";

    private static readonly Lazy<string> Loaded = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Loads the native libraries (idempotent); a load failure becomes a <see cref="SpecialistException"/> that says what to do.</summary>
    public static void EnsureLoaded() => _ = Loaded.Value;

    /// <summary>The libtorch version string, loading it first.</summary>
    public static string LibTorchVersion => Loaded.Value;

    /// <summary>
    /// Which libtorch this build references: <c>cpu</c> (libtorch-cpu-linux-x64, the default) or <c>cuda</c>
    /// (libtorch-cuda-12.8-linux-x64, built with <see cref="CudaBuildSwitch"/>).
    /// </summary>
    public static string Flavour { get; } =
        typeof(TorchRuntime).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "LibTorchFlavour").Value!;

    /// <summary>Whether libtorch sees a usable CUDA device (never with the CPU flavour).</summary>
    public static bool CudaAvailable { get { EnsureLoaded(); return torch.cuda.is_available(); } }

    /// <summary>How many CUDA devices libtorch sees.</summary>
    public static int CudaDeviceCount => CudaAvailable ? torch.cuda.device_count() : 0;

    /// <summary>Whether <paramref name="name"/> names a device: <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c> (checked without loading libtorch).</summary>
    public static bool IsDeviceName(string name) => ParseDeviceName(name) is not null;

    /// <summary>
    /// The device <paramref name="name"/> (<c>cpu</c>, <c>cuda</c> = <c>cuda:0</c>, <c>cuda:N</c>) asks for, once this build
    /// and machine can run on it; otherwise a <see cref="SpecialistException"/> that says why and, on the CPU flavour,
    /// names the build switch. Every command that takes <c>--device</c> (and training's <c>device</c>) goes through here.
    /// </summary>
    public static torch.Device ResolveDevice(string name)
    {
        if (ParseDeviceName(name) is not var (type, index)) throw new SpecialistException($"unknown device '{name}' (use cpu, cuda or cuda:N)");
        if (type == DeviceType.CPU) return new torch.Device(DeviceType.CPU);
        if (Flavour != "cuda")
            throw new SpecialistException(
                $"device '{name}': this build references the CPU-only libtorch (libtorch-cpu-linux-x64), which has no CUDA. " +
                $"Build with the CUDA one, 'dotnet build -c Release {CudaBuildSwitch}' (README, \"Devices\"), on a machine with an NVIDIA driver.");
        var count = CudaDeviceCount;
        if (count == 0)
            throw new SpecialistException($"device '{name}': this build has the CUDA libtorch, but it sees no CUDA device (torch.cuda.is_available() is false): check the NVIDIA driver and CUDA_VISIBLE_DEVICES");
        if (index >= count)
            throw new SpecialistException($"device '{name}': libtorch sees {count} CUDA device{(count == 1 ? "" : "s")} (cuda:0 … cuda:{count - 1})");
        return new torch.Device(DeviceType.CUDA, index);
    }

    private static (DeviceType Type, int Index)? ParseDeviceName(string name) => name switch
    {
        "cpu" => (DeviceType.CPU, 0),
        "cuda" => (DeviceType.CUDA, 0),
        _ when name.StartsWith("cuda:", StringComparison.Ordinal)
            && int.TryParse(name.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out var index) => (DeviceType.CUDA, index),
        _ => null,
    };

    /// <summary>Intra-op threads libtorch uses.</summary>
    public static int Threads { get { EnsureLoaded(); return torch.get_num_threads(); } }

    /// <summary>
    /// Hands freed memory back to the system when the process runs on jemalloc (a no-op otherwise). The CLI runs jemalloc
    /// without page decay, because returning pages as it goes made libtorch fault them back in every step; so freed
    /// pages stay resident, in the arena of whichever thread used them, until this is called. Runs that train and
    /// evaluate on pool threads call it after each evaluation and at their end, which keeps a run's memory near its
    /// concurrent peak.
    /// </summary>
    public static void ReturnFreedMemory()
    {
        if (Mallctl.Value is { } mallctl) mallctl("arena.4096.purge", IntPtr.Zero, IntPtr.Zero, IntPtr.Zero, UIntPtr.Zero); // 4096: every arena
    }

    private delegate int MallctlFunction(string name, IntPtr oldValue, IntPtr oldLength, IntPtr newValue, UIntPtr newLength);

    // Looked up in the process's global symbols: found only when jemalloc was preloaded (never loaded here for this).
    private static readonly Lazy<MallctlFunction?> Mallctl = new(() =>
        OperatingSystem.IsLinux() && dlsym(IntPtr.Zero, "mallctl") is var address && address != IntPtr.Zero
            ? Marshal.GetDelegateForFunctionPointer<MallctlFunction>(address)
            : null);

    [DllImport("libc")]
    private static extern IntPtr dlsym(IntPtr handle, string symbol);

    private static string Load()
    {
        try
        {
            // Loads the native libraries; CUDA's are loaded when a device is first asked for (ResolveDevice).
            torch.InitializeDeviceType(DeviceType.CPU);
            return torch.__version__;
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or NotSupportedException or EntryPointNotFoundException)
        {
            throw new SpecialistException(
                "libtorch failed to load: " + e.Message + "\n" +
                "The build fixes the GLIBCXX_3.4.32 need of its output copy of libLibTorchSharp.so (build/LibTorchSharpVersionFix.targets); " +
                "rebuild with 'dotnet build -c Release' and run from the build output, not from a copy made before the build.", e);
        }
    }

    /// <summary>
    /// The dtype norms, softmaxes and rotary angles accumulate in: fp32 for half precision and fp32 (as Hugging Face's
    /// models), fp64 for fp64, which Hugging Face would round to fp32 there, losing what fp64 is for.
    /// </summary>
    internal static torch.ScalarType AccumulationType(torch.ScalarType dtype) => dtype == torch.ScalarType.Float64 ? torch.ScalarType.Float64 : torch.ScalarType.Float32;
}
