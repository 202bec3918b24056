using System.Text;
using System.Text.RegularExpressions;

namespace Specialist;

/// <summary>Writes a file so that readers see either the old file or the complete new one, never a half-written one.</summary>
public static partial class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> through <paramref name="write"/> into a temporary sibling, then renames it into place; a failed write leaves the old file (or none).</summary>
    public static void Write(string path, Action<FileStream> write)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (!Directory.Exists(folder)) throw new SpecialistException($"cannot write {path}: its folder {folder} does not exist");
        var temp = TemporaryPath(path);
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

    /// <summary>Writes <paramref name="text"/> (UTF-8) to <paramref name="path"/> atomically (<see cref="Write"/>).</summary>
    public static void WriteText(string path, string text) => Write(path, s => s.Write(Encoding.UTF8.GetBytes(text)));

    /// <summary>Copies <paramref name="source"/> to <paramref name="path"/> atomically (<see cref="Write"/>).</summary>
    public static void Copy(string source, string path) => Write(path, s =>
    {
        using var input = File.OpenRead(source);
        input.CopyTo(s);
    });

    /// <summary>
    /// The temporary sibling a write of <paramref name="path"/> goes to before it is renamed into place: hidden, unique,
    /// and recognisable by <see cref="IsTemporary"/>, so that what a killed process left half-written is never mistaken
    /// for a real file and can be removed (<see cref="AtomicFolder.RemoveLeftovers"/>). Whatever a run folder holds —
    /// files, links, checkpoints, distillation sets, students — is written under such a name and renamed into place.
    /// </summary>
    public static string TemporaryPath(string path)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        return Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
    }

    /// <summary>Whether a file or folder name is one <see cref="TemporaryPath"/> makes.</summary>
    public static bool IsTemporary(string name) => TemporaryName().IsMatch(name);

    [GeneratedRegex("^\\..+\\.[0-9a-f]{32}\\.tmp$")]
    private static partial Regex TemporaryName();
}
