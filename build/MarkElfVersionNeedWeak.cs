// MSBuild inline task (see LibTorchSharpVersionFix.targets): marks one ELF64 version need weak when this system lacks it.
// Inline tasks compile against netstandard, hence plain byte arithmetic instead of spans.
using System;
using System.IO;
using System.Text;

public class MarkElfVersionNeedWeak : Microsoft.Build.Utilities.Task
{
    [Microsoft.Build.Framework.Required] public Microsoft.Build.Framework.ITaskItem[] Files { get; set; }
    [Microsoft.Build.Framework.Required] public string Version { get; set; }

    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const uint ShtGnuVersym = 0x6fffffff;
    private const int VerFlgWeak = 0x2;
    private const int VerNdxGlobal = 1;

    public override bool Execute()
    {
        if (SystemLibstdcxxHas(Version))
        {
            Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Low, "libstdc++ provides " + Version + ": libLibTorchSharp.so left as it is");
            return true;
        }
        foreach (var item in Files)
        {
            var path = item.ItemSpec;
            var image = File.ReadAllBytes(path);
            string problem;
            var changed = Patch(image, Version, out problem);
            if (problem != null) { Log.LogError(path + ": " + problem); return false; }
            if (!changed) continue;
            // Write a new file and rename it over the old: the output copy may be a hard link into the NuGet cache.
            // Keep the original time stamp so the next incremental build sees an unchanged copy and leaves it be.
            var stamp = File.GetLastWriteTimeUtc(path);
            var temp = path + ".patching";
            File.WriteAllBytes(temp, image);
            File.SetLastWriteTimeUtc(temp, stamp);
            File.Delete(path);
            File.Move(temp, path);
            Log.LogMessage(Microsoft.Build.Framework.MessageImportance.High, "marked " + Version + " weak in " + path + " (this system's libstdc++ lacks it)");
        }
        return true;
    }

    private static bool SystemLibstdcxxHas(string version)
    {
        var candidates = new[] { "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6" };
        var needle = Encoding.ASCII.GetBytes(version + "\0");
        foreach (var candidate in candidates)
            if (File.Exists(candidate))
                return IndexOf(File.ReadAllBytes(candidate), needle) >= 0;
        return false;
    }

    /// <summary>Returns whether the image changed; problem is set when it is not an ELF64 little-endian image.</summary>
    private static bool Patch(byte[] b, string version, out string problem)
    {
        problem = null;
        if (b.Length < 64 || b[0] != 0x7f || b[1] != (byte)'E' || b[2] != (byte)'L' || b[3] != (byte)'F' || b[4] != 2 || b[5] != 1)
        {
            problem = "not an ELF64 little-endian file";
            return false;
        }
        var shoff = (long)U64(b, 0x28);
        int shentsize = U16(b, 0x3A), shnum = U16(b, 0x3C);

        long verneed = -1, versym = -1, versymSize = 0, strtab = -1;
        long verneedCount = 0;
        for (var i = 0; i < shnum; i++)
        {
            var sh = shoff + (long)i * shentsize;
            var type = U32(b, sh + 4);
            if (type == ShtGnuVerneed)
            {
                verneed = (long)U64(b, sh + 0x18);
                verneedCount = U32(b, sh + 0x2C);
                strtab = (long)U64(b, shoff + (long)U32(b, sh + 0x28) * shentsize + 0x18);
            }
            else if (type == ShtGnuVersym)
            {
                versym = (long)U64(b, sh + 0x18);
                versymSize = (long)U64(b, sh + 0x20);
            }
        }
        if (verneed < 0 || versym < 0) return false;

        var changed = false;
        var need = verneed;
        for (var n = 0; n < verneedCount; n++)
        {
            var aux = need + U32(b, need + 8);
            for (var a = 0; a < U16(b, need + 2); a++)
            {
                if (CString(b, strtab + U32(b, aux + 8)) == version)
                {
                    int flags = U16(b, aux + 4), index = U16(b, aux + 6);
                    if ((flags & VerFlgWeak) == 0) { W16(b, aux + 4, flags | VerFlgWeak); changed = true; }
                    for (var s = versym; s < versym + versymSize; s += 2)
                        if ((U16(b, s) & 0x7fff) == index) { W16(b, s, VerNdxGlobal); changed = true; }
                }
                aux += U32(b, aux + 12);
            }
            need += U32(b, need + 12);
        }
        return changed;
    }

    private static int U16(byte[] b, long o) => b[o] | b[o + 1] << 8;
    private static uint U32(byte[] b, long o) => (uint)(b[o] | b[o + 1] << 8 | b[o + 2] << 16 | b[o + 3] << 24);
    private static ulong U64(byte[] b, long o) => U32(b, o) | (ulong)U32(b, o + 4) << 32;
    private static void W16(byte[] b, long o, int v) { b[o] = (byte)v; b[o + 1] = (byte)(v >> 8); }

    private static string CString(byte[] b, long o)
    {
        var end = o;
        while (b[end] != 0) end++;
        return Encoding.ASCII.GetString(b, (int)o, (int)(end - o));
    }

    private static int IndexOf(byte[] haystack, byte[] needle)
    {
        for (var i = 0; i <= haystack.Length - needle.Length; i++)
        {
            var j = 0;
            while (j < needle.Length && haystack[i + j] == needle[j]) j++;
            if (j == needle.Length) return i;
        }
        return -1;
    }
}
