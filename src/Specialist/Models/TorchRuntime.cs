using TorchSharp;

namespace Specialist.Models;

/// <summary>Loads libtorch once and says what it runs on.</summary>
public static class TorchRuntime
{
    private static readonly Lazy<string> Loaded = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Loads the native libraries (idempotent); a load failure becomes a <see cref="SpecialistException"/> that says what to do.</summary>
    public static void EnsureLoaded() => _ = Loaded.Value;

    /// <summary>The libtorch version string, loading it first.</summary>
    public static string LibTorchVersion => Loaded.Value;

    /// <summary>Whether a CUDA device is usable (always false with the CPU libtorch package this project references).</summary>
    public static bool CudaAvailable { get { EnsureLoaded(); return torch.cuda.is_available(); } }

    /// <summary>Intra-op threads libtorch uses.</summary>
    public static int Threads { get { EnsureLoaded(); return torch.get_num_threads(); } }

    private static string Load()
    {
        try
        {
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
}
