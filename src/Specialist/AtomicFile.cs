using System.Text;

namespace Specialist;

/// <summary>Writes a file so that readers see either the old file or the complete new one, never a half-written one.</summary>
internal static class AtomicFile
{
    public static void Write(string path, Action<FileStream> write)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (!Directory.Exists(folder)) throw new SpecialistException($"cannot write {path}: its folder {folder} does not exist");
        var temp = Path.Combine(folder, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            DeleteTemp(temp);
            throw new SpecialistException($"cannot write {path}: {e.Message}", e);
        }
        catch
        {
            DeleteTemp(temp);
            throw;
        }
    }

    // Best effort: a temp file that cannot be deleted (its folder gone, no permission) must not hide the write's own error.
    private static void DeleteTemp(string temp)
    {
        try { File.Delete(temp); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    public static void WriteText(string path, string text) => Write(path, s => s.Write(Encoding.UTF8.GetBytes(text)));

    public static void Copy(string source, string path) => Write(path, s =>
    {
        using var input = File.OpenRead(source);
        input.CopyTo(s);
    });
}
