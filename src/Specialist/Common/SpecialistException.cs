namespace Specialist;

/// <summary>
/// An error caused by the user's input or environment (a bad file, a missing path, an unknown name).
/// The command line prints its message and exits non-zero; anything else is a bug.
/// </summary>
public class SpecialistException : Exception
{
    public SpecialistException(string message) : base(message) { }
    public SpecialistException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A malformed record in a data file: names the file, the line (or record index) and the field.</summary>
public sealed class DataFormatException : SpecialistException
{
    public string File { get; }
    public string Location { get; }
    public string? Field { get; }

    /// <param name="file">The file being read.</param>
    /// <param name="location">Where in it, e.g. "line 12" or "record 3".</param>
    /// <param name="field">The offending field, if one is to blame.</param>
    /// <param name="problem">What is wrong, e.g. "is missing" or "is not a number".</param>
    public DataFormatException(string file, string location, string? field, string problem)
        : base($"{file}: {location}: {(field is null ? "" : $"field '{field}' ")}{problem}")
    {
        File = file;
        Location = location;
        Field = field;
    }
}
