using System.Runtime.InteropServices;

namespace Specialist.Tokenization;

/// <summary>
/// Unicode NFC through the system's ICU (<c>libicuuc</c>). The build runs .NET in invariant globalization mode, where
/// <see cref="string.Normalize()"/> returns its input unchanged; so a tokenizer whose file asks for NFC (Qwen2) calls
/// ICU itself, finding its version-suffixed exports as .NET's own globalization shim does. Text below U+0300 is NFC
/// already and needs no ICU. ICU's normaliser instance is immutable, so this is thread-safe.
/// </summary>
internal static class IcuNfc
{
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate IntPtr GetInstance(ref int error);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl, CharSet = CharSet.Unicode)]
    private delegate sbyte IsNormalizedFunction(IntPtr normalizer, [In] char[] text, int length, ref int error);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl, CharSet = CharSet.Unicode)]
    private delegate int NormalizeFunction(IntPtr normalizer, [In] char[] text, int length, [Out] char[] destination, int capacity, ref int error);

    private sealed record Api(IntPtr Nfc, IsNormalizedFunction IsNormalized, NormalizeFunction Normalize);

    private static readonly Lazy<Api?> Icu = new(Load);

    /// <summary>Whether <paramref name="text"/> is NFC; <paramref name="file"/> names what asked for NFC, for the error when ICU is missing.</summary>
    public static bool IsNormalized(string text, string file)
    {
        if (!text.AsSpan().ContainsAnyInRange('\u0300', '\uFFFF')) return true;
        var api = Require(file);
        var error = 0;
        var result = api.IsNormalized(api.Nfc, text.ToCharArray(), text.Length, ref error);
        return error <= 0 ? result != 0 : throw new InvalidOperationException($"ICU's unorm2_isNormalized failed with error {error}");
    }

    /// <summary>The NFC form of <paramref name="text"/>.</summary>
    public static string Normalize(string text, string file)
    {
        if (IsNormalized(text, file)) return text;
        var api = Require(file);
        // NFC can lengthen a text (U+0958 becomes two characters), by three times at most.
        var destination = new char[text.Length * 3 + 1];
        var error = 0;
        var length = api.Normalize(api.Nfc, text.ToCharArray(), text.Length, destination, destination.Length, ref error);
        return error <= 0 ? new string(destination, 0, length) : throw new InvalidOperationException($"ICU's unorm2_normalize failed with error {error}");
    }

    private static Api Require(string file) => Icu.Value ?? throw new SpecialistException(
        $"{file}: its normalizer is NFC, which needs ICU's libicuuc (.NET runs here without it); install ICU (Debian: apt-get install libicu72)");

    private static Api? Load()
    {
        foreach (var version in Enumerable.Range(50, 40).Reverse().Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)).Prepend(""))
        {
            if (!NativeLibrary.TryLoad(version.Length == 0 ? "libicuuc.so" : $"libicuuc.so.{version}", out var library)) continue;
            // Distributions build ICU with version-suffixed names (unorm2_normalize_72), some without.
            foreach (var suffix in new[] { version.Length == 0 ? "" : "_" + version, "" }.Distinct())
            {
                if (!NativeLibrary.TryGetExport(library, "unorm2_getNFCInstance" + suffix, out var getInstance)
                    || !NativeLibrary.TryGetExport(library, "unorm2_isNormalized" + suffix, out var isNormalized)
                    || !NativeLibrary.TryGetExport(library, "unorm2_normalize" + suffix, out var normalize)) continue;
                var error = 0;
                var nfc = Marshal.GetDelegateForFunctionPointer<GetInstance>(getInstance)(ref error);
                if (error > 0 || nfc == IntPtr.Zero) continue;
                return new Api(nfc, Marshal.GetDelegateForFunctionPointer<IsNormalizedFunction>(isNormalized),
                    Marshal.GetDelegateForFunctionPointer<NormalizeFunction>(normalize));
            }
        }
        return null;
    }
}
