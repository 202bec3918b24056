namespace Specialist;

/// <summary>
/// Folders that are whole or absent whatever instant the process dies: built under a temporary sibling name
/// (<see cref="AtomicFile.TemporaryPath"/>) and renamed into place, or renamed away before they are deleted. A killed
/// process can leave only such temporaries behind, which <see cref="RemoveLeftovers"/> removes.
/// </summary>
internal static class AtomicFolder
{
    /// <summary>
    /// Makes the folder <paramref name="path"/>, which must not exist: <paramref name="build"/> fills a new temporary
    /// folder (its argument), which is renamed to <paramref name="path"/> once it returns.
    /// </summary>
    public static void Write(string path, Action<string> build)
    {
        var temp = AtomicFile.TemporaryPath(path);
        Directory.CreateDirectory(temp);
        try
        {
            build(temp);
            Directory.Move(temp, path);
        }
        catch
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
            throw;
        }
    }

    /// <summary>
    /// Deletes the folder <paramref name="path"/> if it exists. It is renamed to a temporary name first: a recursive delete
    /// that a kill cuts short would leave some of its files under the real name, looking like a folder that holds
    /// something (a checkpoint without its weights, a training run without its config).
    /// </summary>
    public static void Delete(string path)
    {
        if (!Directory.Exists(path)) return;
        var temp = AtomicFile.TemporaryPath(path);
        Directory.Move(path, temp);
        Directory.Delete(temp, recursive: true);
    }

    /// <summary>
    /// Removes the temporaries (<see cref="AtomicFile.IsTemporary"/>) under <paramref name="folder"/> and its
    /// subfolders: what writes and deletions left when a process died in the middle of them. Links are removed, never
    /// followed. Only for a folder no other process is writing into.
    /// </summary>
    public static void RemoveLeftovers(string folder)
    {
        foreach (var entry in new DirectoryInfo(folder).EnumerateFileSystemInfos())
        {
            var isFolder = entry is DirectoryInfo && entry.LinkTarget is null;
            if (AtomicFile.IsTemporary(entry.Name))
            {
                if (isFolder) Directory.Delete(entry.FullName, recursive: true);
                else File.Delete(entry.FullName);
            }
            else if (isFolder) RemoveLeftovers(entry.FullName);
        }
    }
}
