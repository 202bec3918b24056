using System.Text;
using System.Text.Json;

namespace Specialist;

/// <summary>
/// Parses JSON that a user hands us (settings files, data records, headers). Every such parse goes through here, so
/// all refuse the same things the same way: invalid JSON, and a key given twice in one object, which System.Text.Json
/// would otherwise accept (<c>JsonDocument</c> keeps both, <c>JsonObject</c> throws an <c>ArgumentException</c> when
/// first used). Errors are <see cref="DataFormatException"/>s naming the file, the line and, for a duplicate, the key.
/// </summary>
internal static class JsonInput
{
    private static readonly JsonReaderOptions ReaderOptions = new() { CommentHandling = JsonCommentHandling.Disallow, AllowTrailingCommas = false };

    /// <summary>The bytes of a JSON file; a folder, a missing file or an unreadable one is an error naming it.</summary>
    public static byte[] ReadFile(string path)
    {
        if (Directory.Exists(path)) throw new SpecialistException($"{Path.GetFullPath(path)} is a folder; expected a JSON file");
        if (!File.Exists(path)) throw new SpecialistException($"file not found: {Path.GetFullPath(path)}");
        try
        {
            var bytes = File.ReadAllBytes(path);
            // Editors on Windows may start UTF-8 files with a byte order mark, which JSON readers reject.
            return bytes.AsSpan().StartsWith(Encoding.UTF8.Preamble) ? bytes[Encoding.UTF8.Preamble.Length..] : bytes;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SpecialistException($"cannot read {path}: {e.Message}");
        }
    }

    /// <summary>Parses one JSON document (a whole file, or one JSONL line that starts on line <paramref name="firstLine"/>).</summary>
    public static JsonDocument ParseDocument(string file, string text, int firstLine = 1) => ParseDocument(file, Encoding.UTF8.GetBytes(text), firstLine);

    /// <inheritdoc cref="ParseDocument(string, string, int)"/>
    public static JsonDocument ParseDocument(string file, ReadOnlyMemory<byte> utf8, int firstLine = 1)
    {
        Check(file, utf8.Span, firstLine);
        return JsonDocument.Parse(utf8);
    }

    /// <summary>
    /// Checks that <paramref name="utf8"/> is one valid JSON value with no key twice in an object, and returns the
    /// line of every property outside arrays by its dotted path (<c>train.lr</c>; the root object is <c>""</c>).
    /// </summary>
    internal static Dictionary<string, int> Check(string file, ReadOnlySpan<byte> utf8, int firstLine = 1)
    {
        var lines = new Dictionary<string, int>(StringComparer.Ordinal);
        // One frame per open object or array: its dotted path (null inside arrays, whose members' lines are not
        // kept) and, for an object, the line of each of its keys so far.
        var frames = new Stack<(string? Path, Dictionary<string, int>? Keys)>();
        var reader = new Utf8JsonReader(utf8, ReaderOptions);
        var line = firstLine;
        var counted = 0;
        string? valuePath = "";
        try
        {
            while (reader.Read())
            {
                var start = (int)reader.TokenStartIndex;
                line += utf8[counted..start].Count((byte)'\n');
                counted = start;
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName:
                        var (parent, keys) = frames.Peek();
                        var name = reader.GetString()!;
                        var path = parent is null ? null : parent.Length == 0 ? name : $"{parent}.{name}";
                        if (keys!.TryGetValue(name, out var first))
                            throw new DataFormatException(file, $"line {line}", path ?? name, $"appears twice in one object (first on line {first})");
                        keys[name] = line;
                        if (path is not null) lines[path] = line;
                        valuePath = path;
                        break;
                    case JsonTokenType.StartObject:
                    case JsonTokenType.StartArray:
                        var inArray = frames.Count > 0 && frames.Peek().Keys is null;
                        var own = inArray ? null : valuePath;
                        if (own is not null) lines.TryAdd(own, line);
                        frames.Push(reader.TokenType == JsonTokenType.StartObject ? (own, new Dictionary<string, int>(StringComparer.Ordinal)) : (null, null));
                        break;
                    case JsonTokenType.EndObject:
                    case JsonTokenType.EndArray:
                        frames.Pop();
                        break;
                }
            }
        }
        catch (JsonException e)
        {
            throw new DataFormatException(file, $"line {firstLine + (e.LineNumber ?? 0)}", null, $"is not valid JSON ({FirstSentence(e.Message)})");
        }
        return lines;
    }

    /// <summary>A JSON value for a message: its text, cut short when long.</summary>
    public static string Show(string json) => json.Length <= 80 ? json : json[..77] + "...";

    // System.Text.Json's messages end with a line/position sentence that the error's location already gives.
    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (cut < 0) cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return (cut > 0 ? message[..cut] : message).TrimEnd('.', ' ', '|');
    }
}
