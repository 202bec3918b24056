using System.Runtime.InteropServices;
using TorchSharp;

namespace Specialist.Models;

/// <summary>Loads libtorch once, says what it runs on, and hands its freed memory back.</summary>
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
