using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Specialist.Tests.Tokenization;

/// <summary>
/// The reference encoder: Debian's <c>spm_encode</c> / <c>spm_decode</c> (package <c>sentencepiece</c>), run once per
/// batch over a file of one text per line. A missing binary fails the test with how to install it.
/// </summary>
internal static class SentencePieceReference
{
    /// <summary>
    /// <c>spm_encode --output_format=id</c> of each text. spm_encode reads one text per line, so a text must not hold a
    /// newline; callers pass <see cref="AsOneLine"/> of texts that do.
    /// </summary>
    public static List<int[]> EncodeIds(IReadOnlyList<string> texts, string? model = null) =>
        Run("spm_encode", "--output_format=id", texts, model).Select(ParseIds).ToList();

    /// <summary><c>spm_encode --output_format=piece</c>: pieces separated by spaces (a run of unknown characters is one piece).</summary>
    public static List<string[]> EncodePieces(IReadOnlyList<string> texts) =>
        Run("spm_encode", "--output_format=piece", texts).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();

    /// <summary><c>spm_decode --input_format=id</c> of each id sequence.</summary>
    public static List<string> DecodeIds(IReadOnlyList<IReadOnlyList<int>> ids, string? model = null) =>
        Run("spm_decode", "--input_format=id", ids.Select(s => string.Join(' ', s)).ToList(), model);

    /// <summary>
    /// The text spm_encode can be given for <paramref name="text"/>: newlines become spaces. T5's nmt_nfkc normaliser maps
    /// '\n' to ' ' (as it maps '\r' and '\t', which reach spm_encode unchanged and are tested as they are), so the ids are the same.
    /// </summary>
    public static string AsOneLine(string text) => text.Replace('\n', ' ');

    public static List<string> GsmAndSvampTexts(int gsmQuestions, int gsmAnswers, int svampQuestions)
    {
        var gsm = File.ReadLines(Path.Combine(TestPaths.DataRoot, "gsm8k", "train.jsonl")).Take(Math.Max(gsmQuestions, gsmAnswers))
            .Select(line => JsonDocument.Parse(line).RootElement).ToList();
        using var svamp = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.DataRoot, "svamp", "SVAMP.json")));
        return
        [
            .. gsm.Take(gsmQuestions).Select(r => r.GetProperty("question").GetString()!),
            // Answers carry <<a*b=c>> calculator marks: '<' is not in T5's vocabulary, so they exercise unknown runs.
            .. gsm.Take(gsmAnswers).Select(r => r.GetProperty("answer").GetString()!),
            .. svamp.RootElement.EnumerateArray().Take(svampQuestions)
                .Select(r => r.GetProperty("Body").GetString() + ". " + r.GetProperty("Question").GetString()),
        ];
    }

    private static int[] ParseIds(string line) =>
        line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();

    /// <summary>Runs <paramref name="tool"/> with <paramref name="model"/> (T5's <c>spiece.model</c> when null) over one line per text.</summary>
    private static List<string> Run(string tool, string format, IReadOnlyList<string> lines, string? model = null)
    {
        foreach (var line in lines)
            if (line.Contains('\n')) throw new ArgumentException($"{tool} reads one text per line; pass AsOneLine(text)");
        var input = Path.Combine(TestPaths.NewTempDir(), "input.txt");
        File.WriteAllText(input, string.Concat(lines.Select(l => l + "\n")), new UTF8Encoding(false));
        var psi = new ProcessStartInfo(tool)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
        };
        psi.ArgumentList.Add("--model=" + (model ?? TestPaths.T5SpieceModel));
        psi.ArgumentList.Add(format);
        psi.ArgumentList.Add("--input=" + input);
        Process process;
        try
        {
            process = Process.Start(psi)!;
        }
        catch (Win32Exception e)
        {
            Assert.Fail($"{tool} is not installed ({e.Message}); it is the reference SentencePiece encoder these tests compare with: " +
                        "install the Debian package 'sentencepiece' (apt-get install sentencepiece)");
            throw;
        }
        using (process)
        {
            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            Assert.True(process.ExitCode == 0, $"{tool} failed (exit {process.ExitCode}): {stderr.Result}");
            var output = stdout.Split('\n').ToList();
            if (output.Count > 0 && output[^1].Length == 0) output.RemoveAt(output.Count - 1);
            Assert.Equal(lines.Count, output.Count);
            return output;
        }
    }
}
